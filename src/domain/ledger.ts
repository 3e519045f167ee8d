/**
 * A card's books as the card workflow keeps them: one entry per authorization (or force capture),
 * with the amounts held, captured and refunded. Pure and JSON-serialisable, so it travels through
 * continue-as-new. `available = limit − captured − held + refunded`, per window.
 */
import type { SpendingLimit } from './controls';
import { availableByInterval, type WindowUsage } from './balances';
import { windowStart, type SpendingInterval, type Weekday } from './time-windows';

export interface LedgerEntry {
  /** Partner transaction id. */
  id: string;
  /** When the authorization happened (ms); the entry counts in the windows containing this instant. */
  atMs: number;
  authorized: number;
  held: number;
  captured: number;
  refunded: number;
}

export interface Ledger {
  entries: LedgerEntry[];
  /** Entries compacted away (settled, older than every window): they count for all_time only. */
  archived: WindowUsage;
}

export const emptyLedger = (): Ledger => ({ entries: [], archived: { held: 0, captured: 0, refunded: 0 } });

export interface WindowClock {
  nowMs: number;
  timeZone: string;
  weekStartsOn: Weekday;
}

/** Usage of one interval's current window. */
export function usageIn(ledger: Ledger, interval: SpendingInterval, clock: WindowClock): WindowUsage {
  const start = windowStart(clock.nowMs, interval, clock.timeZone, clock.weekStartsOn);
  const u: WindowUsage = start === null ? { ...ledger.archived } : { held: 0, captured: 0, refunded: 0 };
  for (const e of ledger.entries) {
    if (start !== null && e.atMs < start) continue;
    u.held += e.held;
    u.captured += e.captured;
    u.refunded += e.refunded;
  }
  return u;
}

export function availableFor(ledger: Ledger, limits: readonly SpendingLimit[], clock: WindowClock) {
  return availableByInterval(limits, (interval) => usageIn(ledger, interval, clock));
}

export function totals(ledger: Ledger): WindowUsage {
  return ledger.entries.reduce(
    (u, e) => ({
      held: u.held + e.held,
      captured: u.captured + e.captured,
      refunded: u.refunded + e.refunded,
    }),
    { ...ledger.archived },
  );
}

const find = (ledger: Ledger, id: string): LedgerEntry | undefined => ledger.entries.find((e) => e.id === id);

/** An approved authorization: a new hold. */
export function hold(ledger: Ledger, id: string, amount: number, atMs: number): Ledger {
  if (find(ledger, id)) throw new Error(`transaction ${id} is already on the ledger`);
  return {
    ...ledger,
    entries: [...ledger.entries, { id, atMs, authorized: amount, held: amount, captured: 0, refunded: 0 }],
  };
}

function update(ledger: Ledger, id: string, fn: (e: LedgerEntry) => LedgerEntry): Ledger {
  return { ...ledger, entries: ledger.entries.map((e) => (e.id === id ? fn(e) : e)) };
}

/** An incremental authorization: the hold grows. */
export function increment(ledger: Ledger, id: string, amount: number): Ledger {
  return update(ledger, id, (e) => ({ ...e, authorized: e.authorized + amount, held: e.held + amount }));
}

/** A (partial) reversal releases up to `amount` of the hold. Returns the amount released. */
export function release(ledger: Ledger, id: string, amount: number): { ledger: Ledger; released: number } {
  const e = find(ledger, id);
  if (!e) return { ledger, released: 0 };
  const released = Math.min(e.held, Math.max(0, amount));
  return { ledger: update(ledger, id, (x) => ({ ...x, held: x.held - released })), released };
}

/**
 * A capture: counts `amount` as captured and releases the hold it settles. With `final`, whatever
 * remains held is released too (a partial capture closes the authorization). A capture with no
 * authorization (force capture) gets an entry of its own.
 */
export function capture(ledger: Ledger, id: string, amount: number, atMs: number, final = true): Ledger {
  const e = find(ledger, id);
  if (!e) {
    return {
      ...ledger,
      entries: [...ledger.entries, { id, atMs, authorized: 0, held: 0, captured: amount, refunded: 0 }],
    };
  }
  return update(ledger, id, (x) => ({
    ...x,
    captured: x.captured + amount,
    held: final ? 0 : Math.max(0, x.held - amount),
  }));
}

/** A refund credits the card back (linked to its transaction, or an entry of its own). */
export function refund(ledger: Ledger, id: string, amount: number, atMs: number): Ledger {
  const e = find(ledger, id);
  if (!e) {
    return {
      ...ledger,
      entries: [...ledger.entries, { id, atMs, authorized: 0, held: 0, captured: 0, refunded: amount }],
    };
  }
  return update(ledger, id, (x) => ({ ...x, refunded: x.refunded + amount }));
}

/** Moves settled entries older than every window into the all_time archive; keeps history bounded. */
export function compact(ledger: Ledger, olderThanMs: number): Ledger {
  const keep: LedgerEntry[] = [];
  const archived = { ...ledger.archived };
  for (const e of ledger.entries) {
    if (e.held === 0 && e.atMs < olderThanMs) {
      archived.captured += e.captured;
      archived.refunded += e.refunded;
    } else keep.push(e);
  }
  return { entries: keep, archived };
}
