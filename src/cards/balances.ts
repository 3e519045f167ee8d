import type { Knex } from 'knex';
import { availableByInterval, type WindowUsage } from '../domain/balances';
import { windowStart, SPENDING_INTERVALS, type SpendingInterval } from '../domain/time-windows';
import { type Card } from '../db/models';
import { currentPolicy } from '../policies/current';

export interface CardBalances {
  held: number;
  captured: number;
  refunded: number;
  available: Partial<Record<SpendingInterval, number>>;
}

/**
 * A card's balances from its transaction snapshots: totals, and per spending-limit window (window
 * starts in the program's time zone) the amount still available.
 */
export async function cardBalances(knex: Knex, card: Card, nowMs = Date.now()): Promise<CardBalances> {
  const { policy } = await currentPolicy(knex, card.tenantId);
  const windows = new Map<SpendingInterval, number | null>();
  for (const interval of SPENDING_INTERVALS)
    windows.set(interval, windowStart(nowMs, interval, policy.timeZone, policy.weekStartsOn));
  // Aliases carry no underscore, so the snake→camel result mapper leaves them alone.
  const alias = (interval: SpendingInterval, col: string): string =>
    `w${SPENDING_INTERVALS.indexOf(interval)}${col}`;
  const select: string[] = [];
  const bindings: Date[] = [];
  for (const [interval, start] of windows) {
    const filter = start === null ? '' : ' FILTER (WHERE coalesce(authorized_at, created_at) >= ?)';
    for (const col of ['held', 'captured', 'refunded']) {
      // sum(bigint) is numeric (no overflow); a total past 2^53 − 1 (only ever from hundreds of
      // maximum amounts) is shown as that: the card's available amount is 0 either way, and the
      // page still answers.
      select.push(
        `least(coalesce(sum(${col}_amount)${filter}, 0), ${Number.MAX_SAFE_INTEGER})::bigint AS "${alias(interval, col)}"`,
      );
      if (start !== null) bindings.push(new Date(start));
    }
  }
  const row = (await knex('transactions')
    .where({ tenantId: card.tenantId, cardId: card.id })
    .first(knex.raw(select.join(', '), bindings))) as Record<string, number | string>;
  const usage = (interval: SpendingInterval): WindowUsage => ({
    held: Number(row[alias(interval, 'held')] ?? 0),
    captured: Number(row[alias(interval, 'captured')] ?? 0),
    refunded: Number(row[alias(interval, 'refunded')] ?? 0),
  });
  const total = usage('all_time');
  return { ...total, available: availableByInterval(card.controls.spendingLimits, usage) };
}
