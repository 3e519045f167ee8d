import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Vault } from '../../vault/vault';
import { subscriptionSecrets } from '../../webhooks/subscriptions';
import { SANDBOX } from './events';
import { signStandardWebhook } from './signature';

export interface Delivery {
  status: number;
  body: unknown;
}

export interface SandboxEvent {
  id: string;
  type: string;
  created: string;
  data: Record<string, unknown>;
}

/** A sandbox event body as the partner sends it (`id` is the partner's event id, the dedupe key). */
export function sandboxEvent(
  type: string,
  data: Record<string, unknown>,
  opts: { eventId?: string; created?: Date } = {},
): SandboxEvent {
  return {
    id: opts.eventId ?? `evt_${crypto.randomBytes(10).toString('hex')}`,
    type,
    created: (opts.created ?? new Date()).toISOString(),
    data,
  };
}

/**
 * The sandbox partner's webhook sender: signs an event with the program's active sandbox
 * subscription secret (Standard Webhooks) and POSTs it to the subscription's URL, like a real
 * partner would. `duplicates` re-sends the same event id.
 */
export async function deliverSandboxEvent(
  deps: { knex: Knex; vault: Vault; publicUrl: string },
  programId: string,
  type: string,
  data: Record<string, unknown>,
  opts: { eventId?: string; duplicates?: number; created?: Date } = {},
): Promise<{ eventId: string; deliveries: Delivery[] }> {
  const sub = await deps
    .knex('partner_subscriptions')
    .where({ tenantId: programId, partner: SANDBOX, status: 'active' })
    .orderBy('createdAt')
    .first();
  const event = sandboxEvent(type, data, opts);
  const eventId = event.id;
  if (!sub) return { eventId, deliveries: [] };
  const secret = subscriptionSecrets(deps.vault, sub).current;
  const raw = JSON.stringify(event);
  const deliveries: Delivery[] = [];
  for (let i = 0; i <= (opts.duplicates ?? 0); i++) {
    const headers = {
      'content-type': 'application/json',
      ...signStandardWebhook(secret, `msg_${eventId}_${i}`, raw),
    };
    const res = await fetch(`${deps.publicUrl}/webhooks/${SANDBOX}/${sub.id}`, {
      method: 'POST',
      headers,
      body: raw,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    deliveries.push({ status: res.status, body });
  }
  return { eventId, deliveries };
}
