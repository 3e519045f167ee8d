/**
 * The one writer of a user's week rows: `user_spend_items` (each transaction's contribution to
 * its user's weekly spend, across all their cards) and `user_spend_weeks` (the week's total).
 * Two writes reach them: an authorization's reservation against the user's weekly cap
 * (`reserveUserSpend`, before the card approves) and every money event's projection
 * (`applyUserSpendSql`, composed into the money-event statement so it stays one round trip).
 *
 * The rule both keep: an item takes a write only if it is newer (the card's sequence) than what
 * it holds, or as new (a lost workflow task's write, whose number the card took again: see
 * writeMoneyEvent), the change is computed on the item's locked row, and only that change is added to the
 * week's total — writes of one item in any order, or at once, leave the week right.
 */
import type { Knex } from 'knex';

export interface ReserveUserSpendInput {
  tenantId: string;
  userId: string;
  /** The request's transaction_events key (partner:eventId). */
  eventKey: string;
  itemKey: string;
  weekStartMs: number;
  contribution: number;
  limit: number;
  /** The card's sequence number of the write that will follow (see writeMoneyEvent). */
  seq?: number;
}

/**
 * Counts an authorization against its user's weekly spend across all their cards, only if the
 * week stays within `limit`: a conditional upsert on the week's row, which PostgreSQL locks and
 * re-checks, so cards racing for the same user can never pass the cap together. Setting the
 * same contribution again changes nothing (a retried attempt).
 */
export async function reserveUserSpend(
  knex: Knex,
  input: ReserveUserSpendInput,
): Promise<{ reserved: boolean; spent: number }> {
  const { rows } = await knex.raw(
    `WITH old AS (SELECT amount, week_start FROM user_spend_items WHERE tenant_id = :tenantId AND item_key = :itemKey),
     -- A request already on record (a redelivery past the card's memory) reserves nothing: the
     -- card answers it with the recorded decision.
     known AS (SELECT 1 FROM transaction_events WHERE tenant_id = :tenantId AND event_key = :eventKey),
     d AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM known) THEN 0
                       ELSE :contribution::bigint - COALESCE((SELECT amount FROM old), 0) END AS delta,
                  COALESCE((SELECT week_start FROM old), :weekStart::timestamptz) AS ws),
     w AS (
       INSERT INTO user_spend_weeks AS w (tenant_id, user_id, week_start, spent)
       SELECT :tenantId, :userId, d.ws, d.delta FROM d WHERE d.delta <> 0 AND d.delta <= :limit
       ON CONFLICT (tenant_id, user_id, week_start) DO UPDATE SET spent = w.spent + EXCLUDED.spent
        WHERE w.spent + EXCLUDED.spent <= :limit
       RETURNING spent
     ),
     i AS (
       INSERT INTO user_spend_items (tenant_id, item_key, user_id, week_start, amount, money_seq, last_delta)
       SELECT :tenantId, :itemKey, :userId, d.ws, :contribution, :seq, d.delta FROM d WHERE EXISTS (SELECT 1 FROM w)
       ON CONFLICT (tenant_id, item_key) DO UPDATE SET amount = EXCLUDED.amount,
              money_seq = EXCLUDED.money_seq, last_delta = EXCLUDED.last_delta, updated_at = now()
     )
     SELECT (SELECT delta FROM d) = 0 OR EXISTS (SELECT 1 FROM w) AS "reserved",
            COALESCE((SELECT spent FROM w), (SELECT spent FROM user_spend_weeks x, d
                       WHERE x.tenant_id = :tenantId AND x.user_id = :userId AND x.week_start = d.ws), 0) AS "spent"`,
    { ...input, seq: input.seq ?? null, weekStart: new Date(input.weekStartMs) },
  );
  return { reserved: Boolean(rows[0].reserved), spent: Number(rows[0].spent) };
}

/**
 * A money event's contribution to its user's weekly spend, as CTEs (`ui`, `us`) for the statement
 * that writes the event: applied only when `inserted` (the name of the CTE that inserted the
 * event) has a row, i.e. by the one write that recorded the event. Bindings: `:tenantId`,
 * `:userId` (null: no user), `:itemKey`, `:weekStart`, `:contribution`, `:seq`.
 */
export function applyUserSpendSql(inserted: string): string {
  return `ui AS (
       INSERT INTO user_spend_items AS i (tenant_id, item_key, user_id, week_start, amount, money_seq, last_delta)
       SELECT :tenantId, :itemKey, :userId, :weekStart, :contribution, :seq, :contribution
        WHERE :userId::text IS NOT NULL AND EXISTS (SELECT 1 FROM ${inserted})
       ON CONFLICT (tenant_id, item_key) DO UPDATE SET amount = EXCLUDED.amount,
              last_delta = EXCLUDED.amount - i.amount, money_seq = EXCLUDED.money_seq, updated_at = now()
        WHERE i.money_seq IS NULL OR EXCLUDED.money_seq IS NULL OR i.money_seq <= EXCLUDED.money_seq
       RETURNING last_delta, week_start
     ),
     us AS (
       INSERT INTO user_spend_weeks AS w (tenant_id, user_id, week_start, spent)
       SELECT :tenantId, :userId, ui.week_start, ui.last_delta FROM ui WHERE ui.last_delta <> 0
       ON CONFLICT (tenant_id, user_id, week_start) DO UPDATE SET spent = w.spent + EXCLUDED.spent
     )`;
}
