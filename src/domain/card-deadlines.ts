/**
 * A card's deadlines: when its workflow must next wake up, and what is due when it does. Four
 * kinds: the card's own expiry, each override's expiry, each hold's expiry (an authorization the
 * partner never settled lapses after the program's holdExpiryDays), and the card's own write of
 * decisions taken from its books (the projection flush). Pure: `now` is a parameter.
 */
import { isTerminal, type CardStatus } from './card-state';
import { heldOf, type Ledger, type LedgerEntry } from './ledger';

const DAY_MS = 86_400_000;

/** After how long a hold lapses: a test's override, else the program's days (null: not known yet). */
export function holdLifetimeMs(
  overrideMs: number | undefined,
  holdExpiryDays: number | undefined,
): number | null {
  if (overrideMs !== undefined) return overrideMs;
  return holdExpiryDays === undefined ? null : holdExpiryDays * DAY_MS;
}

/** The entries whose hold has lapsed by `nowMs`. */
export function lapsedHolds(ledger: Ledger, lifetimeMs: number | null, nowMs: number): LedgerEntry[] {
  if (lifetimeMs === null) return [];
  return ledger.entries.filter((e) => heldOf(e) > 0 && e.atMs + lifetimeMs <= nowMs);
}

/** When the first hold still held lapses (null: none is held, or the lifetime is not known). */
export function nextHoldLapse(ledger: Ledger, lifetimeMs: number | null): number | null {
  if (lifetimeMs === null) return null;
  let next: number | null = null;
  for (const e of ledger.entries)
    if (heldOf(e) > 0 && (next === null || e.atMs + lifetimeMs < next)) next = e.atMs + lifetimeMs;
  return next;
}

/** The card's own expiry matters while it is issued and not final. */
export function cardExpiryPending(
  status: CardStatus | 'new',
  expiresAtMs: number | null,
): expiresAtMs is number {
  return expiresAtMs !== null && status !== 'new' && !isTerminal(status);
}

export interface DeadlineView {
  status: CardStatus | 'new';
  expiresAtMs: number | null;
  /** When each pending override reverts. */
  overrideRevertsAtMs: readonly number[];
  ledger: Ledger;
  holdLifetimeMs: number | null;
  /** When the oldest decision taken from the books is due for the card's own write (null: none queued). */
  flushDueAtMs: number | null;
}

/** The earliest of the card's deadlines (null: nothing to wake up for). */
export function nextDeadline(v: DeadlineView): number | null {
  const times = [...v.overrideRevertsAtMs];
  const hold = nextHoldLapse(v.ledger, v.holdLifetimeMs);
  if (hold !== null) times.push(hold);
  if (v.flushDueAtMs !== null) times.push(v.flushDueAtMs);
  if (cardExpiryPending(v.status, v.expiresAtMs)) times.push(v.expiresAtMs);
  return times.length ? Math.min(...times) : null;
}

/**
 * The timer armed for `armed` (null: none) no longer wakes the card in time for `next`: something
 * moved a deadline earlier (or gave the card its first). A later deadline needs no new timer: the
 * armed one fires first, finds nothing due and the next one is armed then.
 */
export function wakesTooLate(next: number | null, armed: number | null): boolean {
  return next !== null && (armed === null || next < armed);
}

/** Splits overrides into those due by `nowMs` (earliest first) and those still pending. */
export function dueOverrides<T extends { revertAtMs: number }>(
  pending: readonly T[],
  nowMs: number,
): { due: T[]; remaining: T[] } {
  return {
    due: pending.filter((o) => o.revertAtMs <= nowMs).sort((a, b) => a.revertAtMs - b.revertAtMs),
    remaining: pending.filter((o) => o.revertAtMs > nowMs),
  };
}
