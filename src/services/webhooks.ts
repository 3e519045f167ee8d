import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { CanonicalEvent } from '../domain/events';
import { SYNCHRONOUS_KINDS } from '../domain/events';
import { newId } from '../lib/ids';
import { normalizeSandbox, type NormalizeResult } from '../partners/sandbox/normalize';
import { verifyStandardWebhook } from '../partners/sandbox/signature';
import type { Vault } from '../vault/vault';
import { signalCard, type CardWorkflowConfig } from './card-workflows';
import { subscriptionSecretAad } from './tenants';

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
  sync?: { tenantId: string; deliveryId: string; event: CanonicalEvent; cardId: string | null };
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
  const sub = await knex('partner_subscriptions')
    .where({ id: req.subscriptionId, partner: req.partner })
    .first();
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
  const { rows } = await knex.raw(
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
              -- The request hands it off right away; the sweeper only steps in if that has not happened by then.
              now() + make_interval(secs => :graceS)
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
    {
      ...delivery,
      partnerCardId: event.partnerCardId,
      eventId: event.eventId,
      eventKind: event.kind,
      event: JSON.stringify(event),
      replay: Boolean(req.replayOf),
      synchronous,
      graceS: HANDOFF_GRACE_MS / 1000,
    },
  );
  const r = rows[0] as { cardId: string | null; queued: string | null; fresh: boolean };

  // Synchronous events (authorization requests) are answered by the card workflow's authorize update.
  if (synchronous)
    return { status: 200, body: base, sync: { tenantId, deliveryId, event, cardId: r.cardId } };
  if (!r.queued) return { status: 200, body: { ...base, duplicate: true } };
  // The acknowledgement never waits on Temporal: the delivery is stored and queued, and the
  // hand-off happens after the answer (the sweeper retries it if Temporal is unreachable).
  if (r.queued === 'pending') {
    const row: HandoffRow = {
      tenantId,
      cardId: r.cardId,
      event,
      source: req.replayOf ? 'replay' : 'partner',
      status: 'pending',
      attempts: 0,
    };
    setImmediate(() => {
      handOff(deps, deliveryId, row).catch((err) =>
        deps.log.error({ err: String(err), deliveryId }, 'hand-off bookkeeping failed'),
      );
    });
  }
  return { status: 200, body: { ...base, duplicate: false } };
}

/** The raw delivery, exactly as received (skipped for an operator's replay of a stored one). */
const STORE_DELIVERY = `INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, partner, headers, raw_body, request_id)
  SELECT :id, :tenantId, :subscriptionId, :partner, :headers::jsonb, :rawBody, :requestId WHERE :store
  RETURNING id`;

/** How long the sweeper leaves a fresh outbox row to the request that queued it. */
export const HANDOFF_GRACE_MS = 5_000;
/** How long one hand-off may wait on Temporal before it is left to the sweeper. */
export const HANDOFF_TIMEOUT_MS = 3_000;

interface HandoffRow {
  tenantId: string;
  cardId: string | null;
  event: CanonicalEvent;
  source: string;
  status: string;
  attempts: number;
}

/**
 * Marks outbox rows handed off, a batch per statement: under load many hand-offs finish within
 * the same few milliseconds. A row whose mark is lost (crash) is handed off again by the sweeper,
 * and the workflow drops the repeat quietly, so the batching costs nothing in correctness.
 */
const handedOffBatches = new WeakMap<Knex, { ids: string[]; done: Promise<void> }>();
function markHandedOff(knex: Knex, deliveryId: string): Promise<void> {
  let batch = handedOffBatches.get(knex);
  if (!batch) {
    const ids: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        handedOffBatches.delete(knex);
        knex('webhook_handoffs')
          .whereIn('deliveryId', ids)
          .update({ status: 'handed_off', lastError: null, updatedAt: knex.fn.now() })
          .then(() => resolve(), reject);
      }, 5);
    });
    batch = { ids, done };
    handedOffBatches.set(knex, batch);
  }
  batch.ids.push(deliveryId);
  return batch.done;
}

const backoffMs = (attempts: number): number => Math.min(60_000, 250 * 2 ** Math.min(attempts, 10));

/**
 * Hands one outbox row to its card workflow. On failure (Temporal unreachable) the row stays
 * pending with a later next attempt; the sweeper retries it. Signals are deduped by event id in
 * the workflow and by unique keys in the database, so a retry never applies an event twice.
 */
export async function handOff(
  deps: WebhookDeps,
  deliveryId: string,
  /** The row as the caller just wrote it (saves reading it back on the request path). */
  queued?: HandoffRow,
): Promise<boolean> {
  const { knex } = deps;
  const row: HandoffRow | undefined =
    queued ?? (await knex('webhook_handoffs').where({ deliveryId }).first());
  const cardId = row?.cardId;
  if (!row || row.status === 'handed_off' || !cardId) return false;
  try {
    await deps.temporal.withDeadline(Date.now() + HANDOFF_TIMEOUT_MS, () =>
      signalCard(deps.temporal, deps.cards, row.tenantId, cardId, {
        deliveryId,
        event: row.event,
        source: row.source === 'reconciliation' ? 'reconciliation' : 'partner',
        replay: row.source === 'replay',
      }),
    );
    await markHandedOff(knex, deliveryId);
    return true;
  } catch (err) {
    const attempts = row.attempts + 1;
    await knex('webhook_handoffs')
      .where({ deliveryId })
      .update({
        attempts,
        lastError: String((err as Error).message ?? err).slice(0, 1000),
        nextAttemptAt: new Date(Date.now() + backoffMs(attempts)),
        updatedAt: knex.fn.now(),
      });
    deps.log.warn(
      { deliveryId, attempts, err: String(err) },
      'hand-off to the card workflow failed; the sweeper will retry',
    );
    return false;
  }
}

/**
 * One sweep of the outbox: pending rows whose next attempt is due, and parked rows whose card has
 * appeared since. Rows are claimed with SKIP LOCKED, so several sweepers (one per worker) share work.
 */
export async function sweepOutbox(
  deps: WebhookDeps,
  batch = 200,
): Promise<{ handedOff: number; failed: number; unparked: number }> {
  const { knex } = deps;
  const unparked = await knex.raw(
    `UPDATE webhook_handoffs h SET status = 'pending', card_id = c.id, next_attempt_at = now(), updated_at = now()
       FROM cards c
      WHERE h.status = 'parked' AND c.tenant_id = h.tenant_id AND c.partner = h.partner AND c.partner_card_id = h.partner_card_id
        AND h.delivery_id IN (SELECT delivery_id FROM webhook_handoffs WHERE status = 'parked' ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED)`,
    [batch],
  );
  const due: Array<{ deliveryId: string }> = await knex('webhook_handoffs')
    .select('deliveryId')
    .where('status', 'pending')
    .where('nextAttemptAt', '<=', knex.fn.now())
    .orderBy('nextAttemptAt')
    .limit(batch);
  let handedOff = 0;
  let failed = 0;
  for (const { deliveryId } of due) {
    if (await handOff(deps, deliveryId)) handedOff++;
    else failed++;
  }
  return { handedOff, failed, unparked: unparked.rowCount ?? 0 };
}

/** Runs sweepOutbox every `intervalMs` until stopped. */
export function startSweeper(deps: WebhookDeps, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = (): void => {
    if (stopped) return;
    running = sweepOutbox(deps)
      .then((r) => {
        if (r.handedOff || r.unparked) deps.log.info(r, 'outbox sweep');
      })
      .catch((err) => deps.log.error({ err: String(err) }, 'outbox sweep failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
