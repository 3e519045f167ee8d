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

async function outcome(
  db: Knex | Knex.Transaction,
  row: {
    tenantId: string;
    deliveryId: string;
    outcome: string;
    eventId?: string;
    eventType?: string;
    cardId?: string | null;
    error?: string;
    details?: object;
  },
): Promise<void> {
  await db('webhook_outcomes').insert({
    tenantId: row.tenantId,
    deliveryId: row.deliveryId,
    outcome: row.outcome,
    eventId: row.eventId ?? null,
    eventType: row.eventType ?? null,
    cardId: row.cardId ?? null,
    error: row.error ?? null,
    details: JSON.stringify(row.details ?? {}),
  });
}

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

/**
 * Ingests one delivery: stores it exactly as received (committed before anything else), verifies
 * its signature, parses and normalizes it, dedupes it on the partner's event id and queues it in
 * the outbox (handed to the card workflow at once when possible). Every path ends with an outcome.
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

  // 1. Store first, exactly as received.
  const deliveryId = req.replayOf ?? newId('webhookEvent');
  if (!req.replayOf) {
    await knex('webhook_deliveries').insert({
      id: deliveryId,
      tenantId,
      subscriptionId: sub.id,
      partner: req.partner,
      headers: JSON.stringify(req.headers),
      rawBody: req.rawBody,
      requestId: req.requestId,
    });
  }
  const base = { received: true, id: deliveryId };
  const end = async (
    o: string,
    status: number,
    body: Record<string, unknown>,
    extra: { error?: string; details?: object; eventId?: string; eventType?: string } = {},
  ) => {
    await outcome(knex, { tenantId, deliveryId, outcome: o, ...extra });
    return { status, body };
  };

  // 2. Signature (replays of stored deliveries skip the timestamp tolerance, not the signature).
  const sig = verifyStandardWebhook(subscriptionSecrets(deps.vault, sub), req.headers, req.rawBody, {
    checkTimestamp: !req.replayOf,
  });
  if (!sig.ok) {
    return end(
      'rejected',
      401,
      {
        error: {
          code: 'WEBHOOK_SIGNATURE_INVALID',
          message: 'the webhook signature is invalid or stale',
          details: { id: deliveryId },
        },
      },
      { error: sig.reason },
    );
  }
  if (sub.status !== 'active') {
    return end(
      'ignored',
      200,
      { ...base, duplicate: false, ignored: true },
      { details: { reason: `subscription ${sub.status}` } },
    );
  }

  // 3. Parse and normalize.
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    return end(
      'unparseable',
      400,
      {
        error: {
          code: 'WEBHOOK_UNPARSEABLE',
          message: 'the body is not valid JSON',
          details: { id: deliveryId },
        },
      },
      { error: 'invalid JSON' },
    );
  }
  const n = normalize(parsed);
  if (!n.ok && n.reason === 'unparseable') {
    return end(
      'unparseable',
      400,
      { error: { code: 'WEBHOOK_UNPARSEABLE', message: n.message, details: { id: deliveryId } } },
      { error: n.message, eventId: n.eventId, eventType: n.type },
    );
  }
  if (!n.ok || !(sub.eventTypes as string[]).includes(n.type)) {
    const why = !n.ok ? 'unknown event type' : 'event type not in the subscription';
    return end(
      'ignored',
      200,
      { ...base, duplicate: false, ignored: true },
      { eventId: n.eventId, eventType: n.type, details: { reason: why } },
    );
  }
  const event = n.event;
  const card = await knex('cards')
    .where({ tenantId, partner: req.partner, partnerCardId: event.partnerCardId })
    .first();

  // Synchronous events (authorization requests) are answered by the card workflow's authorize update.
  if (SYNCHRONOUS_KINDS.includes(event.kind)) {
    await knex('webhook_event_keys')
      .insert({ tenantId, partner: req.partner, eventId: event.eventId, deliveryId })
      .onConflict()
      .ignore();
    return { status: 200, body: base, sync: { tenantId, deliveryId, event, cardId: card?.id ?? null } };
  }

  // 4. Dedupe and queue, in one transaction.
  const queued = await knex.transaction(async (trx) => {
    const key = await trx('webhook_event_keys')
      .insert({ tenantId, partner: req.partner, eventId: event.eventId, deliveryId })
      .onConflict()
      .ignore()
      .returning('deliveryId');
    if (!key.length && !req.replayOf) {
      await outcome(trx, {
        tenantId,
        deliveryId,
        outcome: 'duplicate',
        eventId: event.eventId,
        eventType: event.kind,
        cardId: card?.id,
      });
      return 'duplicate' as const;
    }
    const status = card?.partnerCardId ? 'pending' : 'parked';
    await trx('webhook_handoffs')
      .insert({
        deliveryId,
        tenantId,
        partner: req.partner,
        eventId: event.eventId,
        partnerCardId: event.partnerCardId,
        cardId: card?.id ?? null,
        event: JSON.stringify(event),
        status,
        // The request hands it off right away; the sweeper only steps in if that has not happened by then.
        nextAttemptAt: new Date(Date.now() + HANDOFF_GRACE_MS),
      })
      .onConflict('deliveryId')
      .merge({
        status,
        cardId: card?.id ?? null,
        source: 'replay',
        attempts: 0,
        nextAttemptAt: new Date(Date.now() + HANDOFF_GRACE_MS),
        updatedAt: trx.fn.now(),
      });
    if (status === 'parked') {
      await outcome(trx, {
        tenantId,
        deliveryId,
        outcome: 'parked',
        eventId: event.eventId,
        eventType: event.kind,
        details: { reason: 'card not known yet' },
      });
    }
    return status;
  });
  if (queued === 'duplicate') return { status: 200, body: { ...base, duplicate: true } };
  // The acknowledgement never waits on Temporal: the delivery is stored and queued, and the
  // hand-off happens after the answer (the sweeper retries it if Temporal is unreachable).
  if (queued === 'pending') {
    setImmediate(() => {
      handOff(deps, deliveryId).catch((err) =>
        deps.log.error({ err: String(err), deliveryId }, 'hand-off bookkeeping failed'),
      );
    });
  }
  return { status: 200, body: { ...base, duplicate: false } };
}

/** How long the sweeper leaves a fresh outbox row to the request that queued it. */
export const HANDOFF_GRACE_MS = 5_000;
/** How long one hand-off may wait on Temporal before it is left to the sweeper. */
export const HANDOFF_TIMEOUT_MS = 3_000;

const backoffMs = (attempts: number): number => Math.min(60_000, 250 * 2 ** Math.min(attempts, 10));

/**
 * Hands one outbox row to its card workflow. On failure (Temporal unreachable) the row stays
 * pending with a later next attempt; the sweeper retries it. Signals are deduped by event id in
 * the workflow and by unique keys in the database, so a retry never applies an event twice.
 */
export async function handOff(deps: WebhookDeps, deliveryId: string): Promise<boolean> {
  const { knex } = deps;
  const row = await knex('webhook_handoffs').where({ deliveryId }).first();
  if (!row || row.status === 'handed_off' || !row.cardId) return false;
  try {
    await deps.temporal.withDeadline(Date.now() + HANDOFF_TIMEOUT_MS, () =>
      signalCard(deps.temporal, deps.cards, row.tenantId, row.cardId, {
        deliveryId,
        event: row.event,
        source: row.source === 'reconciliation' ? 'reconciliation' : 'partner',
        replay: row.source === 'replay',
      }),
    );
    await knex('webhook_handoffs')
      .where({ deliveryId })
      .update({ status: 'handed_off', lastError: null, updatedAt: knex.fn.now() });
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
