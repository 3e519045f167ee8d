/**
 * The webhook outbox relay. Ingestion only writes: the delivery, its events' dedupe keys and outbox
 * rows (one per event) commit in one statement. The relay (one per worker process) polls for due rows every
 * `intervalMs` (and at once again while it finds full batches), claims them with a lease
 * (FOR UPDATE SKIP LOCKED, so several relays share the work and none hands a row off twice at the
 * same time), signals each row's card workflow, and marks it handed off; a failure (Temporal
 * unreachable) backs off and is retried. Parked rows (a webhook that raced its card's issuance)
 * are released when the card appears.
 *
 * Polling rather than LISTEN/NOTIFY: a NOTIFY in the ingest statement makes every committing
 * ingestion take one database-wide lock in turn, which stalled acknowledgements by 100–250 ms
 * under a burst in bench:webhooks; an idle poll is one cheap indexed query.
 *
 * Signals are deduped by event id in the workflow and by unique keys in the database, so a row
 * handed off twice (a lost mark, an expired lease) never applies an event twice.
 */
import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { CanonicalEvent } from '../domain/events';
import { signalCard, type CardWorkflowConfig } from '../temporal/card-client';
import type { Vault } from '../vault/vault';
import { recordRelayPass } from '../lib/metrics';

export interface RelayDeps {
  knex: Knex;
  temporal: Client;
  cards: CardWorkflowConfig;
  log: Logger;
  /** Not used by the relay (accepted so a caller may pass its webhook dependencies as they are). */
  vault?: Vault;
}

/** How long one hand-off may wait on Temporal before it is left for a later attempt. */
export const HANDOFF_TIMEOUT_MS = 3_000;
/**
 * A claimed row is left to its relay for this long: more than a batch can take even when Temporal
 * hangs (64 rows, 32 at a time, 3 s each at most = 6 s), and short, because a relay that dies
 * (a killed worker) holds its rows until the lease runs out.
 */
const LEASE_S = 15;
const BATCH = 64;
const CONCURRENCY = 32;

export interface HandoffRow {
  deliveryId: string;
  eventId: string;
  tenantId: string;
  cardId: string | null;
  event: CanonicalEvent;
  source: string;
  status: string;
  attempts: number;
  /** The claim's lease (next_attempt_at as text): the mark applies only while it is unchanged. */
  lease: string;
}

const backoffMs = (attempts: number): number => Math.min(60_000, 250 * 2 ** Math.min(attempts, 10));

/**
 * Marks outbox rows handed off, a batch per statement: under load many hand-offs finish within
 * the same few milliseconds. A lost mark only means the row is handed off again after its lease,
 * and the workflow drops the repeat quietly.
 */
const handedOffBatches = new WeakMap<
  Knex,
  { ids: string[]; eventIds: string[]; leases: string[]; done: Promise<void> }
>();
function markHandedOff(knex: Knex, row: Pick<HandoffRow, 'deliveryId' | 'eventId' | 'lease'>): Promise<void> {
  let batch = handedOffBatches.get(knex);
  if (!batch) {
    const ids: string[] = [];
    const eventIds: string[] = [];
    const leases: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        handedOffBatches.delete(knex);
        // Only rows still under the lease this relay claimed them with: a replay queued meanwhile
        // (it resets the row) stays pending and is handed off again.
        knex
          .raw(
            `UPDATE webhook_handoffs h SET status = 'handed_off', last_error = NULL, updated_at = now()
               FROM unnest(?::text[], ?::text[], ?::text[]) AS v(id, event_id, lease)
              WHERE h.delivery_id = v.id AND h.event_id = v.event_id AND h.status = 'pending'
                AND h.next_attempt_at::text = v.lease`,
            [ids, eventIds, leases],
          )
          .then(() => resolve(), reject);
      }, 5);
    });
    batch = { ids, eventIds, leases, done };
    handedOffBatches.set(knex, batch);
  }
  batch.ids.push(row.deliveryId);
  batch.eventIds.push(row.eventId);
  batch.leases.push(row.lease);
  return batch.done;
}

/** Hands one claimed row to its card workflow; on failure the row gets a later attempt. */
export async function handOff(deps: RelayDeps, row: HandoffRow): Promise<boolean> {
  const { knex } = deps;
  const cardId = row.cardId;
  if (row.status !== 'pending' || !cardId) return false;
  try {
    await deps.temporal.withDeadline(Date.now() + HANDOFF_TIMEOUT_MS, () =>
      signalCard(deps.temporal, deps.cards, row.tenantId, cardId, {
        deliveryId: row.deliveryId,
        event: row.event,
        source: row.source === 'reconciliation' || row.source === 'system' ? row.source : 'partner',
        replay: row.source === 'replay',
      }),
    );
    await markHandedOff(knex, row);
    return true;
  } catch (err) {
    const attempts = row.attempts + 1;
    await knex('webhook_handoffs')
      .where({ deliveryId: row.deliveryId, eventId: row.eventId })
      .update({
        attempts,
        lastError: String((err as Error).message ?? err).slice(0, 1000),
        nextAttemptAt: new Date(Date.now() + backoffMs(attempts)),
        updatedAt: knex.fn.now(),
      });
    deps.log.warn(
      { deliveryId: row.deliveryId, eventId: row.eventId, attempts, err: String(err) },
      'hand-off to the card workflow failed; the relay will retry',
    );
    return false;
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * One pass of the relay: releases parked rows whose card has appeared, then claims and hands off
 * due rows, batch after batch, until none is due.
 */
export async function relayOutbox(
  deps: RelayDeps,
): Promise<{ handedOff: number; failed: number; unparked: number }> {
  const { knex } = deps;
  const unparked = await knex.raw(
    `UPDATE webhook_handoffs h SET status = 'pending', card_id = c.id, next_attempt_at = now(), updated_at = now()
       FROM cards c
      WHERE h.status = 'parked' AND c.tenant_id = h.tenant_id AND c.partner = h.partner AND c.partner_card_id = h.partner_card_id
        AND (h.delivery_id, h.event_id) IN (
          -- Only rows whose card exists now: rows for cards that never appear must not block the rest.
          SELECT x.delivery_id, x.event_id FROM webhook_handoffs x
            JOIN cards y ON y.tenant_id = x.tenant_id AND y.partner = x.partner AND y.partner_card_id = x.partner_card_id
           WHERE x.status = 'parked' ORDER BY x.created_at LIMIT ? FOR UPDATE OF x SKIP LOCKED)`,
    [BATCH],
  );
  let handedOff = 0;
  let failed = 0;
  for (;;) {
    const { rows } = await knex.raw(
      `UPDATE webhook_handoffs SET next_attempt_at = now() + make_interval(secs => ?)
        WHERE (delivery_id, event_id) IN (
          SELECT delivery_id, event_id FROM webhook_handoffs
           WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
        RETURNING delivery_id AS "deliveryId", event_id AS "eventId", tenant_id AS "tenantId", card_id AS "cardId", event, source,
                  status, attempts, next_attempt_at::text AS "lease"`,
      [LEASE_S, BATCH],
    );
    const claimed = rows as HandoffRow[];
    await pool(claimed, CONCURRENCY, async (row) => {
      if (await handOff(deps, row)) handedOff++;
      else failed++;
    });
    if (claimed.length < BATCH) break;
  }
  return { handedOff, failed, unparked: unparked.rowCount ?? 0 };
}

/** Runs the relay every `intervalMs` (passes never overlap) until stopped. */
export function startOutboxRelay(deps: RelayDeps, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const pass = (): void => {
    if (stopped) return;
    const started = performance.now();
    running = relayOutbox(deps)
      .then((r) => {
        recordRelayPass(r, (performance.now() - started) / 1000);
        if (r.failed || r.unparked) deps.log.info(r, 'outbox relay');
      })
      .catch((err) => deps.log.error({ err: String(err) }, 'outbox relay pass failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(pass, intervalMs);
      });
  };
  timer = setTimeout(pass, intervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * Deliveries' events parked because they arrived before the card was known: claimed by the card's
 * workflow once issuance gave the card its partner id (rows already handed to this card come
 * too: a retried claim must return what the first attempt took; the workflow drops what it has
 * already applied).
 */
export async function claimParkedHandoffs(
  knex: Knex,
  input: { tenantId: string; cardId: string },
): Promise<Array<{ deliveryId: string; event: CanonicalEvent; source: 'partner' | 'reconciliation' }>> {
  return knex.transaction(async (trx) => {
    const card = await trx('cards').where({ tenantId: input.tenantId, id: input.cardId }).first();
    if (!card?.partnerCardId) return [];
    const rows: Array<{
      deliveryId: string;
      eventId: string;
      event: CanonicalEvent;
      source: 'partner' | 'reconciliation';
    }> = await trx('webhook_handoffs')
      .where({ tenantId: input.tenantId, partner: card.partner, partnerCardId: card.partnerCardId })
      .where((q) => q.where({ status: 'parked' }).orWhere({ status: 'handed_off', cardId: card.id }))
      .forUpdate()
      .orderBy('createdAt');
    if (!rows.length) return [];
    await trx('webhook_handoffs')
      .whereIn(
        ['deliveryId', 'eventId'],
        rows.map((r) => [r.deliveryId, r.eventId]),
      )
      .where({ status: 'parked' })
      .update({ status: 'handed_off', cardId: card.id, updatedAt: trx.fn.now() });
    return rows.map((r) => ({ deliveryId: r.deliveryId, event: r.event, source: r.source }));
  });
}
