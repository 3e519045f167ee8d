import type { Knex } from 'knex';
import { TRANSACTION_EVENT_TYPE } from '../domain/events';
import { userSpendItemKey } from '../domain/ledger';
import { derivedId } from '../lib/ids';
import type { RecordMoneyEventInput } from '../domain/card-records';
import { preparedStatement } from '../db/prepared';
import { insertOutcomesSql } from '../webhooks/outcomes';
import { applyUserSpendSql } from './user-spend';

const WRITE_MONEY_EVENT = preparedStatement<{ inserted: boolean }>(
  'write_money_event',
  `WITH e AS (
       INSERT INTO transaction_events (tenant_id, card_id, transaction_id, partner_transaction_id, type, amount,
              currency, source, delivery_id, event_key, data, occurred_at)
       VALUES (:tenantId, :cardId, :transactionId, :partnerTransactionId, :type, :amount, :eventCurrency,
              :source, :deliveryId, :eventKey, :data::jsonb, :occurredAt)
       ON CONFLICT (tenant_id, event_key) DO NOTHING RETURNING id
     ),
     t AS (
       INSERT INTO transactions AS x (id, tenant_id, card_id, partner, partner_transaction_id, status, currency,
              authorized_amount, held_amount, captured_amount, refunded_amount, reversed_amount, merchant,
              decline_code, flags, authorized_at, money_seq)
       SELECT :transactionId, :tenantId, :cardId, :partner, :partnerTransactionId, :status, :currency,
              :authorized, :held, :captured, :refunded, :reversed, :merchant::jsonb, :declineCode,
              :flags::text[], :authorizedAt, :seq
        WHERE EXISTS (SELECT 1 FROM e)
       ON CONFLICT (tenant_id, partner, partner_transaction_id) DO UPDATE SET
              status = EXCLUDED.status, authorized_amount = EXCLUDED.authorized_amount,
              held_amount = EXCLUDED.held_amount, captured_amount = EXCLUDED.captured_amount,
              refunded_amount = EXCLUDED.refunded_amount, reversed_amount = EXCLUDED.reversed_amount,
              merchant = EXCLUDED.merchant, decline_code = EXCLUDED.decline_code, flags = EXCLUDED.flags,
              authorized_at = EXCLUDED.authorized_at, money_seq = EXCLUDED.money_seq, updated_at = now()
        WHERE x.money_seq IS NULL OR EXCLUDED.money_seq IS NULL OR x.money_seq <= EXCLUDED.money_seq
     ),
     o AS (${insertOutcomesSql(
       `SELECT :tenantId::text, :deliveryId::text, 'applied', :eventId::text, :eventKind::text, :cardId::text,
               NULL, :outcomeDetails::text
         WHERE :deliveryId::text IS NOT NULL AND EXISTS (SELECT 1 FROM e)`,
     )}),
     -- The transaction's contribution to its user's weekly spend (the week rows' own rule).
     ${applyUserSpendSql('e')}
     SELECT EXISTS (SELECT 1 FROM e) AS "inserted"`,
);

/**
 * The one writer of `transaction_events` (append-only) and `transactions` (each transaction's
 * snapshot): the card workflow's activities, the API (a decision it answers with) and nothing
 * else write money events, all through `writeMoneyEvent`.
 *
 * One money event of a card, written in one statement (one round trip): the append-only event,
 * the transaction's snapshot, the delivery's outcome (its rows' writer: webhooks/outcomes.ts) and
 * the user's weekly spend (its rows' writer: user-spend.ts).
 *
 * - The event row is keyed by `partner:eventId`: a second write of the same event inserts nothing,
 *   and only the write that inserted it writes the snapshot and the outcome.
 * - The snapshot is kept only if it is newer (the card's sequence) than the one on record: an
 *   authorization's projection may be written by the API and by the card, in either order. An
 *   equal sequence is a different event's (the same event's second write inserts nothing): the
 *   write of a workflow task that was lost (Temporal or the worker killed after its local
 *   activity wrote) is overwritten by the card's write that took its number again.
 * - The user's weekly spend is applied by the write that inserted the event, to the item only if
 *   newer than what it holds, with the change computed on the item's locked
 *   row: writes of one item in any order, or at once, leave the week's total right.
 *
 * Returns whether this call inserted the event.
 */
export async function writeMoneyEvent(knex: Knex, input: RecordMoneyEventInput): Promise<boolean> {
  const { event: ev, entry } = input;
  const type = TRANSACTION_EVENT_TYPE[ev.kind]!;
  const transactionId = moneyTransactionId(input);
  const rows = await WRITE_MONEY_EVENT.run(knex, {
    tenantId: input.tenantId,
    cardId: input.cardId,
    transactionId,
    partnerTransactionId: entry.id,
    type,
    amount: 'amount' in ev ? ev.amount : 0,
    eventCurrency: 'currency' in ev ? ev.currency : entry.currency,
    source: input.source,
    deliveryId: input.deliveryId,
    eventKey: moneyEventKey(input),
    seq: input.seq ?? null,
    data: JSON.stringify({ event: ev, decision: input.decision ?? null, commitKey: input.commitKey }),
    occurredAt: new Date(ev.occurredAtMs),
    partner: ev.partner,
    status: entry.status,
    currency: entry.currency,
    authorized: entry.authorized,
    held: entry.held,
    captured: entry.captured,
    refunded: entry.refunded,
    reversed: entry.reversed,
    merchant: entry.merchant ? JSON.stringify(entry.merchant) : null,
    declineCode: entry.declineCode,
    flags: entry.allFlags,
    authorizedAt: new Date(entry.atMs),
    eventId: ev.eventId,
    eventKind: ev.kind,
    userId: input.userSpend?.userId ?? null,
    itemKey: userSpendItemKey(ev.partner, entry.id),
    weekStart: new Date(input.userSpend?.weekStartMs ?? 0),
    contribution: input.userSpend?.contribution ?? 0,
    outcomeDetails: JSON.stringify({
      source: input.source,
      transactionId,
      ...(input.decision ? { decision: input.decision } : {}),
      ...(input.replay ? { replay: true } : {}),
    }),
  });
  return Boolean(rows[0]!.inserted);
}

/** The key a money event is stored under (unique per tenant). */
export const moneyEventKey = (input: Pick<RecordMoneyEventInput, 'event'>): string =>
  `${input.event.partner}:${input.event.eventId}`;

/** The transaction id a money event's row belongs to. */
export const moneyTransactionId = (input: Pick<RecordMoneyEventInput, 'tenantId' | 'event' | 'entry'>) =>
  derivedId('transaction', input.tenantId, input.event.partner, input.entry.id);
