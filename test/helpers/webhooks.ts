import crypto from 'node:crypto';
import { signStandardWebhook } from '../../src/partners/sandbox/signature';
import type { Harness } from './harness';
import type { TestTenant } from './fixtures';

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
