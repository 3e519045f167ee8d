import crypto from 'node:crypto';
import { signStandardWebhook } from '../../src/partners/sandbox/signature';
import type { Harness } from './harness';
import type { TestTenant } from './fixtures';
import { cardWorkflowId } from '../../src/domain/ids';
import { authorizeUpdate } from '../../src/workflows/messages';

export const merchant = { name: 'Corner Shop', mcc: '5411', country: 'US', region: 'US-CA' };

export interface SendOptions {
  id?: string;
  created?: Date;
  secret?: string;
  signedAt?: Date;
  headers?: Record<string, string | undefined>;
  rawBody?: string;
}

/** Sends a signed sandbox delivery to the tenant's webhook URL, as the partner would. */
export async function sendEvent(
  h: Harness,
  t: TestTenant,
  type: string,
  data: Record<string, unknown>,
  o: SendOptions = {},
) {
  const id = o.id ?? `evt_${crypto.randomBytes(8).toString('hex')}`;
  const raw =
    o.rawBody ?? JSON.stringify({ id, type, created: (o.created ?? new Date()).toISOString(), data });
  const signed = signStandardWebhook(
    o.secret ?? t.sandboxWebhookSecret,
    `msg_${id}`,
    raw,
    o.signedAt ?? new Date(),
  );
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries({ ...signed, ...o.headers })) if (v !== undefined) headers[k] = v;
  const path = new URL(t.sandboxWebhookUrl).pathname;
  const res = await h.request('POST', path, { rawBody: raw, headers });
  return { ...res, eventId: id };
}

export async function outcomesOf(h: Harness, deliveryId: string): Promise<string[]> {
  return (await h.knex('webhook_outcomes').where({ deliveryId }).orderBy('id')).map((o) => o.outcome);
}

/**
 * The card's authorize update for a $4 request, sent straight to the card as the API sends it but
 * without the API (so without its stand-in, and without its write of a decision from the books).
 */
export function authorizeDirectly(
  h: Harness,
  t: TestTenant,
  card: { id: string; partnerCardId: string },
  transactionId: string,
  o: { deadlineAtMs?: number; fresh?: boolean; updateId?: string } = {},
) {
  return h.temporal.workflow.getHandle(cardWorkflowId(t.id, card.id)).executeUpdate(authorizeUpdate, {
    updateId: o.updateId ?? `auth:evt_${transactionId}`,
    args: [
      {
        deliveryId: null,
        deadlineAtMs: o.deadlineAtMs,
        ...(o.fresh ? { fresh: true } : {}),
        event: {
          kind: 'authorization.request',
          eventId: `evt_${transactionId}`,
          partner: 'sandbox',
          partnerCardId: card.partnerCardId,
          occurredAtMs: Date.now(),
          transactionId,
          amount: 400,
          currency: 'USD',
          merchant,
        },
      },
    ],
  });
}
