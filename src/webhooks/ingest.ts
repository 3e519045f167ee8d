import type { Knex } from 'knex';
import { preparedStatement } from '../db/prepared';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { CanonicalEvent } from '../domain/events';
import { SYNCHRONOUS_KINDS } from '../domain/events';
import { newId } from '../lib/ids';
import { normalizeSandbox, type NormalizeResult } from '../partners/sandbox/normalize';
import { verifyStandardWebhook } from '../partners/sandbox/signature';
import type { Vault } from '../vault/vault';
import type { CardWorkflowConfig } from '../temporal/card-client';
import { subscriptionSecretAad } from '../tenants/create';

export interface WebhookDeps {
  knex: Knex;
  vault: Vault;
  temporal: Client;
  cards: CardWorkflowConfig;
  log: Logger;
}

export interface IngestResult {
  status: number;
  body: Record<string, unknown>;
  /** For synchronous events: what to do next (decided by the authorization route). */
  sync?: {
    tenantId: string;
    deliveryId: string;
    event: CanonicalEvent;
    cardId: string | null;
    /** The event id was stored for the first time: no earlier delivery of it exists. */
    fresh: boolean;
  };
}

/** Partner adapters' inbound side; the sandbox is the one partner so far. */
const NORMALIZERS: Record<string, (body: unknown) => NormalizeResult> = { sandbox: normalizeSandbox };

export function subscriptionSecrets(
  vault: Vault,
  sub: {
    id: string;
    tenantId: string;
    secretEncrypted: string;
    previousSecretEncrypted: string | null;
    previousSecretExpiresAt: Date | null;
  },
  nowMs = Date.now(),
) {
  const aad = subscriptionSecretAad(sub.tenantId, sub.id);
  const previousValid =
    sub.previousSecretEncrypted &&
    sub.previousSecretExpiresAt &&
    new Date(sub.previousSecretExpiresAt).getTime() > nowMs;
  return {
    current: vault.openString(sub.secretEncrypted, aad),
    previous: previousValid ? vault.openString(sub.previousSecretEncrypted!, aad) : null,
  };
}

type Verdict =
  | {
      kind: 'end';
      outcome: 'rejected' | 'ignored' | 'unparseable';
      status: number;
      body: Record<string, unknown>;
      error?: string;
      details?: object;
      eventId?: string;
      eventType?: string;
    }
  | { kind: 'event'; event: CanonicalEvent };

/** What a delivery is, decided in memory: signature, subscription state, parsing and normalization. */
function judge(
  deps: WebhookDeps,
  sub: { status: string; eventTypes: string[] } & Parameters<typeof subscriptionSecrets>[1],
  normalize: (body: unknown) => NormalizeResult,
  req: { headers: Record<string, string>; rawBody: Buffer; replayOf?: string },
  deliveryId: string,
): Verdict {
  const base = { received: true, id: deliveryId };
  const ignored = { ...base, duplicate: false, ignored: true };
  // Replays of stored deliveries skip the timestamp tolerance, not the signature.
  const sig = verifyStandardWebhook(subscriptionSecrets(deps.vault, sub), req.headers, req.rawBody, {
    checkTimestamp: !req.replayOf,
  });
  if (!sig.ok)
    return {
      kind: 'end',
      outcome: 'rejected',
      status: 401,
      body: {
        error: {
          code: 'WEBHOOK_SIGNATURE_INVALID',
          message: 'the webhook signature is invalid or stale',
          details: { id: deliveryId },
        },
      },
      error: sig.reason,
    };
  if (sub.status !== 'active')
    return {
      kind: 'end',
      outcome: 'ignored',
      status: 200,
      body: ignored,
      details: { reason: `subscription ${sub.status}` },
    };
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    return {
      kind: 'end',
      outcome: 'unparseable',
      status: 400,
      body: {
        error: {
          code: 'WEBHOOK_UNPARSEABLE',
          message: 'the body is not valid JSON',
          details: { id: deliveryId },
        },
      },
      error: 'invalid JSON',
    };
  }
  const n = normalize(parsed);
  if (!n.ok && n.reason === 'unparseable')
    return {
      kind: 'end',
      outcome: 'unparseable',
      status: 400,
      body: { error: { code: 'WEBHOOK_UNPARSEABLE', message: n.message, details: { id: deliveryId } } },
      error: n.message,
      eventId: n.eventId,
      eventType: n.type,
    };
  if (!n.ok || !(sub.eventTypes as string[]).includes(n.type))
    return {
      kind: 'end',
      outcome: 'ignored',
      status: 200,
      body: ignored,
      eventId: n.eventId,
      eventType: n.type,
      details: { reason: !n.ok ? 'unknown event type' : 'event type not in the subscription' },
    };
  return { kind: 'event', event: n.event };
}

/**
 * A webhook subscription, read at most once a second per API process: it is on every delivery's
 * path (a round trip, and on a small host the socket writes are much of a request's cost). A change
 * made through this process's admin API (a pause, a rotated secret) is seen at once
 * (forgetSubscription); one made through another process within the second.
 */
type SubscriptionRow = Parameters<typeof judge>[1] & { id: string; tenantId: string };
const subscriptionCache = new Map<string, { at: number; row: SubscriptionRow | undefined }>();
const SUBSCRIPTION_CACHE_MS = 1_000;
async function subscriptionOf(knex: Knex, partner: string, id: string) {
  const key = `${partner}/${id}`;
  const hit = subscriptionCache.get(key);
  if (hit && Date.now() - hit.at < SUBSCRIPTION_CACHE_MS) return hit.row;
  const row: SubscriptionRow | undefined = await knex('partner_subscriptions').where({ id, partner }).first();
  if (subscriptionCache.size > 10_000) subscriptionCache.clear();
  subscriptionCache.set(key, { at: Date.now(), row });
  return row;
}
/** Drops a subscription's cached row after a change to it. */
export function forgetSubscription(partner: string, id: string): void {
  subscriptionCache.delete(`${partner}/${id}`);
}

/**
 * Ingests one delivery: stores it exactly as received, verifies its signature, parses and
 * normalizes it, dedupes it on the partner's event id and queues it in the outbox (handed to the
 * card workflow right after the answer when possible). Every path ends with an outcome.
 *
 * The delivery row, the dedupe key, the outbox row and the outcome are written by one statement,
 * so they commit together: the partner never gets a 2xx for a delivery that is not stored, and a
 * delivery is never stored without its outcome or its place in the outbox. (One round trip to
 * PostgreSQL after the subscription lookup: that is most of what an acknowledgement costs.)
 */
export async function ingestDelivery(
  deps: WebhookDeps,
  req: {
    partner: string;
    subscriptionId: string;
    headers: Record<string, string>;
    rawBody: Buffer;
    requestId: string;
    replayOf?: string;
  },
): Promise<IngestResult> {
  const { knex } = deps;
  const sub = await subscriptionOf(knex, req.partner, req.subscriptionId);
  const normalize = NORMALIZERS[req.partner];
  if (!sub || !normalize)
    return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such webhook subscription' } } };
  const tenantId: string = sub.tenantId;
  const deliveryId = req.replayOf ?? newId('webhookEvent');
  const base = { received: true, id: deliveryId };
  const delivery = {
    store: !req.replayOf,
    id: deliveryId,
    tenantId,
    subscriptionId: sub.id as string,
    partner: req.partner,
    headers: JSON.stringify(req.headers),
    rawBody: req.rawBody,
    requestId: req.requestId,
  };

  const verdict = judge(deps, sub, normalize, req, deliveryId);
  if (verdict.kind === 'end') {
    await knex.raw(
      `WITH d AS (${STORE_DELIVERY})
       INSERT INTO webhook_outcomes (tenant_id, delivery_id, outcome, event_id, event_type, error, details)
       VALUES (:tenantId, :id, :outcome, :eventId, :eventType, :error, :details::jsonb)`,
      {
        ...delivery,
        outcome: verdict.outcome,
        eventId: verdict.eventId ?? null,
        eventType: verdict.eventType ?? null,
        error: verdict.error ?? null,
        details: JSON.stringify(verdict.details ?? {}),
      },
    );
    return { status: verdict.status, body: verdict.body };
  }

  const event = verdict.event;
  const synchronous = SYNCHRONOUS_KINDS.includes(event.kind);
  const rows = await INGEST_EVENT.run(knex, {
    ...delivery,
    partnerCardId: event.partnerCardId,
    eventId: event.eventId,
    eventKind: event.kind,
    event: JSON.stringify(event),
    replay: Boolean(req.replayOf),
    synchronous,
  });
  const r = rows[0]!;

  // Synchronous events (authorization requests) are answered by the card workflow's authorize update.
  if (synchronous)
    return {
      status: 200,
      // (Whether this delivery is a duplicate is the answer's to say: see authorizeWithDeadline.)
      body: base,
      sync: { tenantId, deliveryId, event, cardId: r.cardId, fresh: Boolean(r.fresh) && !req.replayOf },
    };
  if (!r.queued) return { status: 200, body: { ...base, duplicate: true } };
  // The acknowledgement never waits on Temporal: the delivery is stored and queued, and the
  // outbox relay in the workers hands it to the card workflow.
  return { status: 200, body: { ...base, duplicate: false } };
}

/** The raw delivery, exactly as received (skipped for an operator's replay of a stored one). */
const STORE_DELIVERY = `INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, partner, headers, raw_body, request_id)
  SELECT :id, :tenantId, :subscriptionId, :partner, :headers::jsonb, :rawBody, :requestId WHERE :store
  RETURNING id`;

/** A normalized event's delivery, dedupe key, outbox row and outcome: one prepared statement. */
const INGEST_EVENT = preparedStatement<{ cardId: string | null; queued: string | null; fresh: boolean }>(
  'ingest_event',
  `WITH d AS (${STORE_DELIVERY}),
     c AS (SELECT id FROM cards WHERE tenant_id = :tenantId AND partner = :partner AND partner_card_id = :partnerCardId),
     k AS (
       INSERT INTO webhook_event_keys (tenant_id, partner, event_id, delivery_id)
       VALUES (:tenantId, :partner, :eventId, :id) ON CONFLICT DO NOTHING RETURNING delivery_id
     ),
     q AS (
       -- Asynchronous events are queued in the outbox: a new event id, or any replay by an operator.
       INSERT INTO webhook_handoffs
         (delivery_id, tenant_id, partner, event_id, partner_card_id, card_id, event, status, source, next_attempt_at)
       SELECT :id, :tenantId, :partner, :eventId, :partnerCardId, (SELECT id FROM c), :event::jsonb,
              CASE WHEN EXISTS (SELECT 1 FROM c) THEN 'pending' ELSE 'parked' END,
              CASE WHEN :replay THEN 'replay' ELSE 'partner' END,
              now()
        WHERE NOT :synchronous AND (:replay OR EXISTS (SELECT 1 FROM k))
       ON CONFLICT (delivery_id) DO UPDATE SET status = EXCLUDED.status, card_id = EXCLUDED.card_id, source = 'replay',
              attempts = 0, next_attempt_at = EXCLUDED.next_attempt_at, updated_at = now()
       RETURNING status
     ),
     o AS (
       INSERT INTO webhook_outcomes (tenant_id, delivery_id, outcome, event_id, event_type, card_id, details)
       SELECT :tenantId, :id, x.outcome, :eventId, :eventKind, (SELECT id FROM c), x.details::jsonb
         FROM (
           SELECT 'duplicate' AS outcome, '{}' AS details
            WHERE NOT :synchronous AND NOT :replay AND NOT EXISTS (SELECT 1 FROM k)
           UNION ALL
           SELECT 'parked', '{"reason":"card not known yet"}' FROM q WHERE q.status = 'parked'
         ) x
     )
     SELECT (SELECT id FROM c) AS "cardId", (SELECT status FROM q) AS "queued",
            EXISTS (SELECT 1 FROM k) AS "fresh"`,
);
