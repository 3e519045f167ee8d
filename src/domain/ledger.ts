/**
 * A card's books as the card workflow keeps them: one entry per partner transaction. Every field
 * is a sum or a one-way flag, so applying the same events in any order gives the same entry, and
 * the hold is derived rather than edited:
 *
 *   held = 0 if the authorization was cleared or expired, else max(0, authorized − reversed)
 *   available = limit − captured − held + refunded   (per window)
 *
 * Pure and JSON-serialisable, so it travels through continue-as-new.
 */
import type { SpendingLimit } from './controls';
import { availableByInterval, type WindowUsage } from './balances';
import { windowStart, type SpendingInterval, type Weekday } from './time-windows';

export interface LedgerEntry {
  /** Partner transaction id (refunds without one: `refund:<refundId>`). */
  id: string;
  /** When the authorization happened (earliest event time seen): the entry counts in windows containing it. */
  atMs: number;
  currency: string;
  /** Approved authorization plus increments (or advice the partner approved). */
  authorized: number;
  reversed: number;
  captured: number;
  refunded: number;
  /** A clearing was seen: whatever was still held is released (partial capture closes the authorization). */
  cleared: boolean;
  /** The authorization expired (partner event or hold-expiry timer). */
  expired: boolean;
  /** Declined by us (request) or by the partner (advice). */
  declined: boolean;
  declineCode: string | null;
  /** Explicit notes (`advice`, `stand_in`, `partner_override`, …); see flagsOf for the derived ones. */
  flags: string[];
  merchant: object | null;
}

export interface Ledger {
  entries: LedgerEntry[];
  /** Entries compacted away (settled, older than every window): they count for all_time only. */
  archived: WindowUsage;
}

export const emptyLedger = (): Ledger => ({ entries: [], archived: { held: 0, captured: 0, refunded: 0 } });

/** Explicit flags plus those derived from the sums: `force_capture` (captured, never authorized), `over_capture`. */
export function flagsOf(e: LedgerEntry): string[] {
  const derived: string[] = [];
  if (e.captured > 0 && e.authorized === 0) derived.push('force_capture');
  if (e.authorized > 0 && e.captured > e.authorized) derived.push('over_capture');
  return [...new Set([...e.flags, ...derived])].sort();
}

/** The entry of a refund that names no transaction of its own. */
export const unlinkedRefundEntryId = (refundId: string): string => `refund:${refundId}`;

/** The key of a partner transaction's row in user_spend_items. */
export const userSpendItemKey = (partner: string, partnerTransactionId: string): string =>
  `${partner}:${partnerTransactionId}`;

/** What a transaction counts against its user's weekly spend: like a card window, held + captured − refunded. */
export const userSpendOf = (e: LedgerEntry): number => heldOf(e) + e.captured - e.refunded;

export function heldOf(e: LedgerEntry): number {
  if (e.cleared || e.expired || e.declined) return 0;
  return Math.max(0, e.authorized - e.reversed);
}

export type TransactionStatus = 'pending' | 'closed' | 'declined' | 'reversed' | 'expired';

export function statusOf(e: LedgerEntry): TransactionStatus {
  if (e.declined && e.captured === 0) return 'declined';
  if (e.cleared || e.captured > 0 || e.refunded > 0) return 'closed';
  if (e.expired) return 'expired';
  if (e.authorized > 0 && e.reversed >= e.authorized) return 'reversed';
  return 'pending';
}

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
    u.held += heldOf(e);
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
      held: u.held + heldOf(e),
      captured: u.captured + e.captured,
      refunded: u.refunded + e.refunded,
    }),
    { ...ledger.archived },
  );
}

export function findEntry(ledger: Ledger, id: string): LedgerEntry | undefined {
  return ledger.entries.find((e) => e.id === id);
}

export function newEntry(id: string, atMs: number, currency: string): LedgerEntry {
  return {
    id,
    atMs,
    currency,
    authorized: 0,
    reversed: 0,
    captured: 0,
    refunded: 0,
    cleared: false,
    expired: false,
    declined: false,
    declineCode: null,
    flags: [],
    merchant: null,
  };
}

const addFlag = (e: LedgerEntry, flag: string): string[] =>
  e.flags.includes(flag) ? e.flags : [...e.flags, flag].sort();

/**
 * Flags of a partner's word on an entry: `advice` (the partner decided a transaction the card did
 * not), `partner_override` (the partner decided otherwise than the card, and its decision stands),
 * `adjusted` (a hold change the partner decided), `manual_review` (something no rule applies).
 */
export const PARTNER_FLAGS = {
  advice: 'advice',
  override: 'partner_override',
  adjusted: 'adjusted',
  /** An adjustment seen before any decision of its authorization: the advice still adds to it. */
  adjustedEarly: 'adjusted_before_decision',
  review: 'manual_review',
} as const;

/** The card (or an earlier advice, or a stand-in) decided this entry's authorization. */
function isDecided(e: LedgerEntry): boolean {
  if (e.declined) return true;
  if (e.authorized === 0) return false;
  // Everything authorized so far is a partner's adjustment that came before the decision.
  return !(e.flags.includes(PARTNER_FLAGS.adjustedEarly) && !e.flags.includes(PARTNER_FLAGS.advice));
}

/**
 * The card counted an approval for this entry (its `approvals`, which `maxAuthorizations` bounds):
 * decided and approved, and not since released because the partner declined it.
 */
function countsAsApproved(e: LedgerEntry | undefined): boolean {
  if (!e || e.declined || e.authorized === 0 || !isDecided(e)) return false;
  const released =
    (e.flags.includes('stand_in_release') || e.flags.includes(PARTNER_FLAGS.override)) &&
    e.reversed >= e.authorized &&
    e.captured === 0;
  return !released;
}

/**
 * How a partner's advice changes the card's approval count: +1 when the partner approved what the
 * card had not approved (declined, released, or never asked), −1 when it declined what the card
 * had approved, 0 when it agrees.
 */
export function adviceApprovalsDelta(before: LedgerEntry | undefined, approved: boolean): -1 | 0 | 1 {
  const counted = countsAsApproved(before);
  if (approved) return counted ? 0 : 1;
  return counted ? -1 : 0;
}

/** Applies `fn` to the entry `id` (created if missing), keeping the earliest event time. */
export function upsert(
  ledger: Ledger,
  id: string,
  atMs: number,
  currency: string,
  fn: (e: LedgerEntry) => LedgerEntry,
): { ledger: Ledger; entry: LedgerEntry } {
  const existing = findEntry(ledger, id);
  const base = existing ?? newEntry(id, atMs, currency);
  const entry = fn({ ...base, atMs: Math.min(base.atMs, atMs) });
  const entries = existing
    ? ledger.entries.map((e) => (e.id === id ? entry : e))
    : [...ledger.entries, entry];
  return { ledger: { ...ledger, entries }, entry };
}

export const ops = {
  /** An approved authorization (ours or the partner's advice): a hold of `amount`. */
  authorize: (e: LedgerEntry, amount: number, merchant?: object | null): LedgerEntry => ({
    ...e,
    authorized: e.authorized + amount,
    merchant: merchant ?? e.merchant,
  }),
  decline: (e: LedgerEntry, code: string, merchant?: object | null): LedgerEntry => ({
    ...e,
    declined: e.authorized === 0 ? true : e.declined,
    declineCode: code,
    merchant: merchant ?? e.merchant,
  }),
  increment: (e: LedgerEntry, amount: number): LedgerEntry => ({ ...e, authorized: e.authorized + amount }),
  reverse: (e: LedgerEntry, amount: number): LedgerEntry => ({ ...e, reversed: e.reversed + amount }),
  expire: (e: LedgerEntry): LedgerEntry => ({ ...e, expired: true }),
  clear: (e: LedgerEntry, amount: number): LedgerEntry => ({
    ...e,
    captured: e.captured + amount,
    cleared: true,
  }),
  refund: (e: LedgerEntry, amount: number): LedgerEntry => ({ ...e, refunded: e.refunded + amount }),
  /**
   * The partner acted on the program's stand-in decision: the entry ends as the partner has it,
   * whether the card decided before this (its own decision is undone where it differs) or not.
   */
  standIn: (e: LedgerEntry, approved: boolean, amount: number, merchant?: object | null): LedgerEntry => {
    const m = merchant ?? e.merchant;
    if (approved) {
      if (e.authorized > 0) return { ...e, flags: addFlag(e, 'stand_in'), merchant: m };
      return {
        ...e,
        authorized: amount,
        declined: false,
        declineCode: null,
        flags: addFlag(e, 'stand_in'),
        merchant: m,
      };
    }
    if (e.authorized > 0)
      // The card approved (too late): the partner declined, so nothing is held.
      return {
        ...e,
        reversed: Math.max(e.reversed, e.authorized),
        flags: addFlag(e, 'stand_in_release'),
        merchant: m,
      };
    return { ...e, declined: true, declineCode: 'STAND_IN', flags: addFlag(e, 'stand_in'), merchant: m };
  },
  flag: (e: LedgerEntry, flag: string): LedgerEntry => ({ ...e, flags: addFlag(e, flag) }),
  /**
   * The partner's decision on the authorization (advice). Undecided so far: applied as the
   * partner's own (`advice`). Decided by the card (the partner asked us) or by an earlier advice:
   * the partner's decision wins, so an agreeing one changes nothing, and applying it twice is
   * applying it once —
   * - the partner approved what the card declined: held as the partner approved it;
   * - the partner approved what a stand-in released, or more than the card approved: held at the
   *   partner's amount;
   * - the partner declined what the card approved: nothing is held.
   * Each correction is flagged `partner_override`.
   */
  advise: (
    e: LedgerEntry,
    a: { approved: boolean; amount: number; declineCode?: string; merchant?: object | null },
  ): LedgerEntry => {
    const merchant = a.merchant ?? e.merchant;
    if (!isDecided(e)) {
      // The early adjustments' marker has done its work: from here the entry is decided.
      const flags = addFlag(e, PARTNER_FLAGS.advice).filter((f) => f !== PARTNER_FLAGS.adjustedEarly);
      return a.approved
        ? { ...e, authorized: e.authorized + a.amount, merchant, flags }
        : { ...e, declined: true, declineCode: a.declineCode ?? 'PARTNER_DECLINED', merchant, flags };
    }
    const override = (next: Partial<LedgerEntry>): LedgerEntry => {
      const o = { ...e, ...next, merchant };
      return { ...o, flags: addFlag(o, PARTNER_FLAGS.override) };
    };
    if (a.approved) {
      if (e.authorized === 0) return override({ authorized: a.amount, declined: false, declineCode: null });
      if (e.flags.includes('stand_in_release') && heldOf(e) === 0 && !e.cleared && !e.expired) {
        const authorized = Math.max(e.authorized, a.amount);
        return override({ authorized, reversed: authorized - a.amount });
      }
      if (a.amount > e.authorized) return override({ authorized: a.amount });
      return { ...e, merchant };
    }
    if (e.authorized > e.reversed && !e.cleared) return override({ reversed: e.authorized });
    return { ...e, merchant };
  },
  /** A hold change the partner decided (never negative: a fall is a reversal). */
  adjust: (e: LedgerEntry, amount: number): LedgerEntry => {
    const early = !isDecided(e);
    const o = { ...e, authorized: e.authorized + amount, flags: addFlag(e, PARTNER_FLAGS.adjusted) };
    return early ? { ...o, flags: addFlag(o, PARTNER_FLAGS.adjustedEarly) } : o;
  },
};

/** Moves settled entries older than every window into the all_time archive; keeps history bounded. */
export function compact(ledger: Ledger, olderThanMs: number): Ledger {
  const keep: LedgerEntry[] = [];
  const archived = { ...ledger.archived };
  for (const e of ledger.entries) {
    if (heldOf(e) === 0 && (e.cleared || e.expired || e.declined) && e.atMs < olderThanMs) {
      archived.captured += e.captured;
      archived.refunded += e.refunded;
    } else keep.push(e);
  }
  return { entries: keep, archived };
}

/** The ledger effect of an asynchronous partner event (everything but requests and card status). */
export function applyMoneyEvent(
  ledger: Ledger,
  ev:
    | {
        kind: 'authorization.advice';
        transactionId: string;
        amount: number;
        currency: string;
        approved: boolean;
        declineCode?: string;
        merchant?: object;
        occurredAtMs: number;
      }
    | { kind: 'authorization.adjustment'; transactionId: string; amount: number; occurredAtMs: number }
    | {
        kind: 'authorization.stand_in';
        transactionId: string;
        amount: number;
        currency: string;
        approved: boolean;
        merchant?: object;
        occurredAtMs: number;
      }
    | { kind: 'authorization.reversal'; transactionId: string; amount: number; occurredAtMs: number }
    | { kind: 'authorization.expiry'; transactionId: string; occurredAtMs: number }
    | { kind: 'clearing'; transactionId: string; amount: number; currency: string; occurredAtMs: number }
    | {
        kind: 'refund';
        refundId: string;
        transactionId?: string;
        amount: number;
        currency: string;
        occurredAtMs: number;
      }
    | {
        kind: 'transaction.review';
        transactionId: string;
        currency: string;
        occurredAtMs: number;
      },
  cardCurrency: string,
): { ledger: Ledger; entry: LedgerEntry } {
  switch (ev.kind) {
    case 'authorization.advice':
      return upsert(ledger, ev.transactionId, ev.occurredAtMs, ev.currency, (e) => ops.advise(e, ev));
    case 'authorization.adjustment':
      return upsert(ledger, ev.transactionId, ev.occurredAtMs, cardCurrency, (e) => ops.adjust(e, ev.amount));
    case 'authorization.stand_in':
      return upsert(ledger, ev.transactionId, ev.occurredAtMs, ev.currency, (e) =>
        ops.standIn(e, ev.approved, ev.amount, ev.merchant),
      );
    case 'authorization.reversal':
      return upsert(ledger, ev.transactionId, ev.occurredAtMs, cardCurrency, (e) =>
        ops.reverse(e, ev.amount),
      );
    case 'authorization.expiry':
      return upsert(ledger, ev.transactionId, ev.occurredAtMs, cardCurrency, ops.expire);
    case 'clearing':
      return upsert(ledger, ev.transactionId, ev.occurredAtMs, ev.currency, (e) => ops.clear(e, ev.amount));
    case 'refund':
      return upsert(
        ledger,
        ev.transactionId ?? unlinkedRefundEntryId(ev.refundId),
        ev.occurredAtMs,
        ev.currency,
        (e) => ops.refund(e, ev.amount),
      );
    case 'transaction.review':
      return upsert(ledger, ev.transactionId, ev.occurredAtMs, ev.currency, (e) =>
        ops.flag(e, PARTNER_FLAGS.review),
      );
  }
}
