import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { preparedStatement } from '../db/prepared';
import type { CanonicalEvent } from '../domain/events';
import { SYNCHRONOUS_KINDS } from '../domain/events';
import { newId } from '../lib/ids';
import {
  getPartner,
  hasPartner,
  type InboundDelivery,
  type PartnerAdapter,
  type PartnerRegistry,
} from '../partners/adapter';
import type { CardWorkflowConfig } from '../temporal/card-client';
import type { Vault } from '../vault/vault';
import { insertOutcomesSql, outcomeBindings, type WebhookOutcome } from './outcomes';
import { subscriptionOf, subscriptionSecrets, type SubscriptionRow } from './subscriptions';

export interface WebhookDeps {
  knex: Knex;
  vault: Vault;
  temporal: Client;
  cards: CardWorkflowConfig;
  log: Logger;
  partners: PartnerRegistry;
}

export interface IngestRequest {
  partner: string;
  subscriptionId: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  rawBody: Buffer;
  requestId: string;
  /** When the delivery arrived (epoch ms; default now). */
  receivedAtMs?: number;
  /** An operator's replay of this stored delivery. */
  replayOf?: string;
}

export interface IngestResult {
  status: number;
  body: Record<string, unknown>;
  /** Headers of an answer the partner's adapter gave itself (see NormalizeResult.reply). */
  headers?: Record<string, string>;
  /** For a synchronous event (an authorization request): what to decide and how to answer. */
  sync?: {
    tenantId: string;
    deliveryId: string;
    event: Extract<CanonicalEvent, { kind: 'authorization.request' | 'authorization.increment' }>;
    cardId: string | null;
    /** The event id was stored for the first time: no earlier delivery of it exists. */
    fresh: boolean;
    adapter: PartnerAdapter;
    delivery: InboundDelivery;
    subscription: SubscriptionRow;
  };
}

type Verdict =
  | {
      kind: 'end';
      outcome: Exclude<WebhookOutcome, 'applied' | 'duplicate' | 'parked' | 'failed'>;
      status: number;
      body: Record<string, unknown>;
      headers?: Record<string, string>;
      error?: string;
      details?: Record<string, unknown>;
      eventId?: string;
      eventType?: string;
    }
  | { kind: 'events'; events: CanonicalEvent[] };

const unparseable = (deliveryId: string, message: string, eventId?: string, eventType?: string): Verdict => ({
  kind: 'end',
  outcome: 'unparseable',
  status: 400,
  body: { error: { code: 'WEBHOOK_UNPARSEABLE', message, details: { id: deliveryId } } },
  error: message,
  eventId,
  eventType,
});

/** What a delivery is, decided in memory by its partner's adapter: signature, subscription state, normalization. */
function judge(
  deps: WebhookDeps,
  adapter: PartnerAdapter,
  sub: SubscriptionRow,
  delivery: InboundDelivery,
  deliveryId: string,
  replay: boolean,
): Verdict {
  const ignored = (
    details: Record<string, unknown>,
    eventId?: string,
    eventType?: string,
  ): Extract<Verdict, { kind: 'end' }> => ({
    kind: 'end',
    outcome: 'ignored',
    status: 200,
    body: { received: true, id: deliveryId, duplicate: false, ignored: true },
    details,
    eventId,
    eventType,
  });
  // Replays of stored deliveries skip the timestamp tolerance, not the signature.
  const sig = adapter.verify(delivery, subscriptionSecrets(deps.vault, sub), { checkTimestamp: !replay });
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
  if (sub.status !== 'active') return ignored({ reason: `subscription ${sub.status}` });
  const n = adapter.normalize(delivery);
  if (!n.ok && n.reason === 'unparseable') return unparseable(deliveryId, n.message, n.eventId, n.type);
  if (!n.ok) return ignored({ reason: 'unknown event type' }, n.eventId, n.type);
  if (!sub.eventTypes.includes(n.type))
    return ignored({ reason: 'event type not in the subscription' }, n.eventId, n.type);
  if (n.events.length === 0 && n.reply)
    // Nothing for a card to decide, and an answer the partner waits for (a Lithic balance
    // inquiry): the adapter's own, as it is.
    return {
      ...ignored({ reason: 'answered by the partner adapter: nothing to apply' }, n.eventId, n.type),
      status: n.reply.status,
      body: n.reply.body as Record<string, unknown>,
      ...(n.reply.headers ? { headers: n.reply.headers } : {}),
    };
  if (n.events.length === 0) return ignored({ reason: 'no events: nothing to apply' }, n.eventId, n.type);
  // Each event is deduped by its own id: one id twice in a delivery is one event.
  const events = [...new Map(n.events.map((e) => [e.eventId, e])).values()];
  if (events.length > 1 && events.some((e) => SYNCHRONOUS_KINDS.includes(e.kind)))
    return unparseable(
      deliveryId,
      'an authorization request must be its delivery’s only event',
      n.eventId,
      n.type,
    );
  return { kind: 'events', events };
}

/**
 * Ingests one delivery: stores it exactly as received, has its partner's adapter verify its
 * signature and normalize it into canonical events, dedupes each event on its own id and queues
 * each in the outbox (handed to the card workflow right after the answer when possible). Every
 * path ends with an outcome.
 *
 * The delivery row, the dedupe keys, the outbox rows and the outcomes are written by one
 * statement, so they commit together: the partner never gets a 2xx for a delivery that is not
 * stored, and a delivery is never stored without its outcome or its place in the outbox. (One
 * round trip to PostgreSQL after the subscription lookup: that is most of what an acknowledgement
 * costs.)
 */
export async function ingestDelivery(deps: WebhookDeps, req: IngestRequest): Promise<IngestResult> {
  const { knex } = deps;
  const sub = hasPartner(deps.partners, req.partner)
    ? await subscriptionOf(knex, req.partner, req.subscriptionId)
    : undefined;
  if (!sub)
    return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such webhook subscription' } } };
  const adapter = getPartner(deps.partners, req.partner);
  const tenantId = sub.tenantId;
  const replay = Boolean(req.replayOf);
  const deliveryId = req.replayOf ?? newId('webhookEvent');
  const base = { received: true, id: deliveryId };
  const stored = {
    store: !replay,
    id: deliveryId,
    tenantId,
    subscriptionId: sub.id,
    partner: req.partner,
    headers: JSON.stringify(req.headers),
    rawBody: req.rawBody,
    requestId: req.requestId,
  };
  const delivery: InboundDelivery = {
    headers: req.headers,
    rawBody: req.rawBody,
    receivedAtMs: req.receivedAtMs ?? Date.now(),
  };

  const verdict = judge(deps, adapter, sub, delivery, deliveryId, replay);
  if (verdict.kind === 'end') {
    await knex.raw(`WITH d AS (${STORE_DELIVERY}) ${insertOutcomesSql(ONE_OUTCOME)}`, {
      ...stored,
      ...outcomeBindings({
        tenantId,
        deliveryId,
        outcome: verdict.outcome,
        eventId: verdict.eventId,
        eventType: verdict.eventType,
        error: verdict.error,
        // An operator's replay is a later pass: its outcome is marked so (see outcomes.ts).
        details: replay ? { ...verdict.details, replay: true } : verdict.details,
      }),
    });
    return {
      status: verdict.status,
      body: verdict.body,
      ...(verdict.headers ? { headers: verdict.headers } : {}),
    };
  }

  const { events } = verdict;
  const synchronous = events.length === 1 && SYNCHRONOUS_KINDS.includes(events[0]!.kind);
  const rows = await INGEST_EVENTS.run(knex, {
    ...stored,
    eventIds: events.map((e) => e.eventId),
    eventKinds: events.map((e) => e.kind),
    partnerCardIds: events.map((e) => e.partnerCardId),
    events: events.map((e) => JSON.stringify(e)),
    replay,
    synchronous,
  });
  const r = rows[0]!;

  // Synchronous events (authorization requests) are answered by the card workflow's authorize update.
  if (synchronous)
    return {
      status: 200,
      // (Whether this delivery is a duplicate is the answer's to say: see authorizeWithDeadline.)
      body: base,
      sync: {
        tenantId,
        deliveryId,
        event: events[0] as NonNullable<IngestResult['sync']>['event'],
        cardId: r.cardId,
        fresh: Boolean(r.fresh) && !replay,
        adapter,
        delivery,
        subscription: sub,
      },
    };
  // The acknowledgement never waits on Temporal: the delivery is stored and queued, and the
  // outbox relay in the workers hands it to the card workflow. Nothing queued: every event was
  // delivered before.
  return { status: 200, body: { ...base, duplicate: !r.queued } };
}

/** The raw delivery, exactly as received (skipped for an operator's replay of a stored one). */
const STORE_DELIVERY = `INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, partner, headers, raw_body, request_id)
  SELECT :id, :tenantId, :subscriptionId, :partner, :headers::jsonb, :rawBody, :requestId WHERE :store
  RETURNING id`;

const ONE_OUTCOME = `SELECT :tenantId::text, :deliveryId::text, :outcome::text, :eventId::text, :eventType::text,
                            :cardId::text, :error::text, :details::text`;

/**
 * A delivery's normalized events: the delivery, each event's dedupe key and outbox row, and the
 * outcomes of duplicates and parked events — one prepared statement.
 */
const INGEST_EVENTS = preparedStatement<{ cardId: string | null; queued: number; fresh: boolean }>(
  'ingest_events',
  `WITH d AS (${STORE_DELIVERY}),
     ev AS (
       SELECT * FROM unnest(:eventIds::text[], :eventKinds::text[], :partnerCardIds::text[], :events::jsonb[])
         AS ev(event_id, event_kind, partner_card_id, event)
     ),
     c AS (
       SELECT ev.event_id, x.id AS card_id FROM ev
         JOIN cards x ON x.tenant_id = :tenantId AND x.partner = :partner AND x.partner_card_id = ev.partner_card_id
     ),
     k AS (
       INSERT INTO webhook_event_keys (tenant_id, partner, event_id, delivery_id)
       SELECT :tenantId, :partner, ev.event_id, :id FROM ev ON CONFLICT DO NOTHING RETURNING event_id
     ),
     q AS (
       -- Asynchronous events are queued in the outbox: a new event id, or any replay by an operator.
       INSERT INTO webhook_handoffs
         (delivery_id, event_id, tenant_id, partner, partner_card_id, card_id, event, status, source, next_attempt_at)
       SELECT :id, ev.event_id, :tenantId, :partner, ev.partner_card_id, c.card_id, ev.event,
              CASE WHEN c.card_id IS NOT NULL THEN 'pending' ELSE 'parked' END,
              CASE WHEN :replay THEN 'replay' ELSE 'partner' END,
              now()
         FROM ev LEFT JOIN c ON c.event_id = ev.event_id
        WHERE NOT :synchronous AND (:replay OR EXISTS (SELECT 1 FROM k WHERE k.event_id = ev.event_id))
       ON CONFLICT (delivery_id, event_id) DO UPDATE SET status = EXCLUDED.status, card_id = EXCLUDED.card_id,
              source = 'replay', attempts = 0, next_attempt_at = EXCLUDED.next_attempt_at, updated_at = now()
       RETURNING event_id, status
     ),
     o AS (${insertOutcomesSql(
       `SELECT :tenantId::text, :id::text, 'duplicate', ev.event_id, ev.event_kind, c.card_id, NULL, '{}'
          FROM ev LEFT JOIN c ON c.event_id = ev.event_id
         WHERE NOT :synchronous AND NOT :replay AND NOT EXISTS (SELECT 1 FROM k WHERE k.event_id = ev.event_id)
        UNION ALL
        SELECT :tenantId::text, :id::text, 'parked', q.event_id, ev.event_kind, NULL, NULL,
               CASE WHEN :replay THEN '{"reason":"card not known yet","replay": true}' ELSE '{"reason":"card not known yet"}' END
          FROM q JOIN ev ON ev.event_id = q.event_id
         WHERE q.status = 'parked'`,
     )})
     SELECT (SELECT card_id FROM c LIMIT 1) AS "cardId", (SELECT count(*) FROM q)::int AS "queued",
            EXISTS (SELECT 1 FROM k) AS "fresh"`,
);
