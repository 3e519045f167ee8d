import { Webhook } from 'standardwebhooks';
import type { SignatureCheck, SubscriptionSecrets } from '../adapter';

/**
 * Standard Webhooks verification against the subscription's current secret and, during a
 * rotation, its previous one. `checkTimestamp: false` is for an operator's replay of a stored
 * delivery (its timestamp is old by then; the signature must still match).
 */
export function verifyStandardWebhook(
  secrets: Pick<SubscriptionSecrets, 'current' | 'previous'>,
  headers: Record<string, string>,
  raw: Buffer,
  opts: { checkTimestamp?: boolean } = {},
): SignatureCheck {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  if (!lower['webhook-id'] || !lower['webhook-timestamp'] || !lower['webhook-signature']) {
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  }
  let lastReason = 'no matching signature';
  const candidates: Array<['current' | 'previous', string]> = [['current', secrets.current]];
  if (secrets.previous) candidates.push(['previous', secrets.previous]);
  for (const [which, secret] of candidates) {
    try {
      const wh = new Webhook(secret);
      if (opts.checkTimestamp === false) {
        const ts = Number(lower['webhook-timestamp']);
        if (!Number.isFinite(ts)) return { ok: false, reason: 'invalid timestamp' };
        const expected = wh.sign(lower['webhook-id'], new Date(ts * 1000), raw).split(',')[1];
        if (lower['webhook-signature'].split(' ').some((s) => s === `v1,${expected}`))
          return { ok: true, secretUsed: which };
        continue;
      }
      wh.verify(raw, lower, { jsonParse: false });
      return { ok: true, secretUsed: which };
    } catch (err) {
      lastReason = (err as Error).message;
      if (/timestamp/i.test(lastReason)) return { ok: false, reason: lastReason };
    }
  }
  return { ok: false, reason: lastReason };
}

/** Signs a payload the way the sandbox partner sends it (also used by tests and the simulator). */
export function signStandardWebhook(
  secret: string,
  msgId: string,
  raw: string,
  at = new Date(),
): Record<string, string> {
  const wh = new Webhook(secret);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': wh.sign(msgId, at, raw),
  };
}
