import fc from 'fast-check';
import {
  cardExpiryPending,
  dueOverrides,
  holdLifetimeMs,
  lapsedHolds,
  nextDeadline,
  nextHoldLapse,
  wakesTooLate,
  type DeadlineView,
} from './card-deadlines';
import type { CardStatus } from './card-state';
import { emptyLedger, newEntry, type Ledger, type LedgerEntry } from './ledger';

const entry = (id: string, atMs: number, e: Partial<LedgerEntry> = {}): LedgerEntry => ({
  ...newEntry(id, atMs, 'USD'),
  ...e,
});
const ledger = (...entries: LedgerEntry[]): Ledger => ({ ...emptyLedger(), entries });

// Held: a (t=1000, 500 held), c (t=3000). Not held: b cleared, d declined, e fully reversed.
const books = ledger(
  entry('a', 1_000, { authorized: 500 }),
  entry('b', 500, { authorized: 500, captured: 500, cleared: true }),
  entry('c', 3_000, { authorized: 200, reversed: 100 }),
  entry('d', 200, { declined: true }),
  entry('e', 100, { authorized: 300, reversed: 300 }),
);

describe('hold expiry', () => {
  it('lasts the test’s override, else the program’s days', () => {
    expect(holdLifetimeMs(2_000, 7)).toBe(2_000);
    expect(holdLifetimeMs(undefined, 7)).toBe(604_800_000);
    expect(holdLifetimeMs(undefined, undefined)).toBeNull();
  });

  it('lapses the entries still held once their lifetime is over (at the instant itself)', () => {
    expect(lapsedHolds(books, 10_000, 10_999).map((e) => e.id)).toEqual([]);
    expect(lapsedHolds(books, 10_000, 11_000).map((e) => e.id)).toEqual(['a']);
    expect(lapsedHolds(books, 10_000, 50_000).map((e) => e.id)).toEqual(['a', 'c']);
    expect(lapsedHolds(books, null, 50_000)).toEqual([]);
  });

  it('comes next for the oldest entry still held', () => {
    expect(nextHoldLapse(books, 10_000)).toBe(11_000);
    expect(nextHoldLapse(ledger(entry('b', 500, { authorized: 1, expired: true })), 10_000)).toBeNull();
    expect(nextHoldLapse(books, null)).toBeNull();
  });
});

describe('the card’s next deadline', () => {
  const view = (v: Partial<DeadlineView>): DeadlineView => ({
    status: 'active',
    expiresAtMs: 1_000_000,
    overrideRevertsAtMs: [],
    ledger: emptyLedger(),
    holdLifetimeMs: null,
    flushDueAtMs: null,
    ...v,
  });

  it('is the card’s expiry while it is issued and not final', () => {
    expect(nextDeadline(view({}))).toBe(1_000_000);
    expect(nextDeadline(view({ status: 'frozen' }))).toBe(1_000_000);
    expect(nextDeadline(view({ status: 'pending' }))).toBe(1_000_000);
    expect(nextDeadline(view({ status: 'new' }))).toBeNull();
    expect(nextDeadline(view({ status: 'canceled' }))).toBeNull();
    expect(nextDeadline(view({ status: 'expired' }))).toBeNull();
    expect(nextDeadline(view({ expiresAtMs: null }))).toBeNull();
  });

  it('is the earliest of an override’s revert, a hold’s lapse, the flush and the expiry', () => {
    expect(nextDeadline(view({ overrideRevertsAtMs: [900_000, 400_000] }))).toBe(400_000);
    expect(
      nextDeadline(view({ ledger: books, holdLifetimeMs: 10_000, overrideRevertsAtMs: [400_000] })),
    ).toBe(11_000);
    expect(nextDeadline(view({ ledger: books, holdLifetimeMs: 10_000, flushDueAtMs: 9_000 }))).toBe(9_000);
    // A canceled card still reverts its overrides and writes its decisions; only its expiry is moot.
    expect(
      nextDeadline(view({ status: 'canceled', flushDueAtMs: 9_000, overrideRevertsAtMs: [8_000] })),
    ).toBe(8_000);
  });

  it('property: is no later than any of the deadlines, and is one of them', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CardStatus | 'new'>('new', 'pending', 'active', 'frozen', 'canceled', 'expired'),
        fc.option(fc.nat()),
        fc.array(fc.nat()),
        fc.option(fc.nat()),
        fc.array(fc.record({ atMs: fc.nat({ max: 1e9 }), held: fc.nat({ max: 5 }) })),
        fc.option(fc.nat({ max: 1e6 })),
        (status, expiresAtMs, reverts, flushDueAtMs, holds, life) => {
          const l = ledger(...holds.map((h, i) => entry(`t${i}`, h.atMs, { authorized: h.held })));
          const candidates = [
            ...reverts,
            ...(flushDueAtMs === null ? [] : [flushDueAtMs]),
            ...(expiresAtMs !== null && ['pending', 'active', 'frozen'].includes(status)
              ? [expiresAtMs]
              : []),
            ...(life === null ? [] : holds.filter((h) => h.held > 0).map((h) => h.atMs + life)),
          ];
          const next = nextDeadline({
            status,
            expiresAtMs,
            overrideRevertsAtMs: reverts,
            ledger: l,
            holdLifetimeMs: life,
            flushDueAtMs,
          });
          if (!candidates.length) return next === null;
          return next !== null && candidates.every((c) => next <= c) && candidates.includes(next);
        },
      ),
    );
  });

  it('asks for the expiry timer only of an issued, live card', () => {
    expect(cardExpiryPending('active', 5)).toBe(true);
    expect(cardExpiryPending('new', 5)).toBe(false);
    expect(cardExpiryPending('expired', 5)).toBe(false);
    expect(cardExpiryPending('active', null)).toBe(false);
  });
});

describe('re-arming the main loop’s timer', () => {
  it('is needed when a deadline comes before the armed one, or the first one appears', () => {
    expect(wakesTooLate(5_000, 10_000)).toBe(true);
    expect(wakesTooLate(5_000, null)).toBe(true);
  });

  it('is not needed for the same deadline, a later one, or none', () => {
    expect(wakesTooLate(10_000, 10_000)).toBe(false);
    expect(wakesTooLate(20_000, 10_000)).toBe(false);
    expect(wakesTooLate(null, 10_000)).toBe(false);
    expect(wakesTooLate(null, null)).toBe(false);
  });
});

describe('overrides due', () => {
  it('are those whose time has come (at the instant itself), earliest first', () => {
    const pending = [
      { actionId: 'x', revertAtMs: 300 },
      { actionId: 'y', revertAtMs: 100 },
      { actionId: 'z', revertAtMs: 301 },
      { actionId: 'w', revertAtMs: 200 },
    ];
    const { due, remaining } = dueOverrides(pending, 300);
    expect(due.map((o) => o.actionId)).toEqual(['y', 'w', 'x']);
    expect(remaining.map((o) => o.actionId)).toEqual(['z']);
  });
});
