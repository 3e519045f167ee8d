import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { InboundDelivery, SignatureCheck, SubscriptionSecrets } from '../adapter';
import { candidateSecrets } from '../common';

/** Standard Webhooks' tolerance, both ways, counted to when the delivery was stored. */
export const LITHIC_TOLERANCE_S = 300;

/**
 * Standard Webhooks, as Lithic signs both its events and Auth Stream Access: `webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64>[ v1,<base64>…]`, the HMAC keyed with the
 * secret **base64-decoded** after its `whsec_` prefix (a Stripe secret used so is the wrong key).
 *
 * The Lithic SDK's `webhooks.verifySignature` is `new Webhook(secret).verify(…)` of this same
 * library, which counts the tolerance to the clock at the call. The interface counts it to when
 * the delivery was stored (`receivedAtMs`), and a replay checks no time at all, so the same
 * library's signer computes the signature and the time is checked here (parity with the SDK is a
 * test: lithic.verify.test.ts).
 */
export function verifyLithic(
  delivery: InboundDelivery,
  secrets: SubscriptionSecrets,
  opts: { checkTimestamp: boolean },
): SignatureCheck {
  const id = delivery.headers['webhook-id'];
  const timestamp = delivery.headers['webhook-timestamp'];
  const signatures = delivery.headers['webhook-signature'];
  if (!id || !timestamp || !signatures)
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  const ts = /^[0-9]{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
  if (!Number.isSafeInteger(ts)) return { ok: false, reason: 'invalid webhook-timestamp' };
  if (opts.checkTimestamp) {
    const age = Math.floor(delivery.receivedAtMs / 1000) - ts;
    if (age > LITHIC_TOLERANCE_S) return { ok: false, reason: 'Message timestamp too old' };
    if (-age > LITHIC_TOLERANCE_S) return { ok: false, reason: 'Message timestamp too new' };
  }
  const given = signatures
    .split(' ')
    .map((s) => s.split(','))
    .filter(([version, sig]) => version === 'v1' && sig)
    .map(([, sig]) => Buffer.from(sig!));
  let unusable: string | null = null;
  let tried = 0;
  for (const [which, secret] of candidateSecrets(secrets)) {
    let expected: Buffer;
    try {
      expected = Buffer.from(
        new Webhook(secret).sign(id, new Date(ts * 1000), delivery.rawBody).split(',')[1]!,
      );
    } catch (err) {
      // Not a Standard Webhooks secret (not base64 after whsec_): it signs nothing here.
      unusable = `secret unusable: ${(err as Error).message}`;
      continue;
    }
    tried++;
    if (given.some((g) => g.length === expected.length && crypto.timingSafeEqual(g, expected)))
      return { ok: true, secretUsed: which };
  }
  return { ok: false, reason: tried === 0 && unusable ? unusable : 'No matching signature found' };
}
