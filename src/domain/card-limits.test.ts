import { allAuthorizationsSettled, declinedByUserWeeklyCap } from './card-limits';
import { emptyLedger, heldOf, newEntry, type Ledger, type LedgerEntry } from './ledger';

const merchant = { mcc: '5812', country: 'US' };
const ledger = (...entries: Array<Partial<LedgerEntry> & { id: string }>): Ledger => ({
  ...emptyLedger(),
  entries: entries.map((e) => ({ ...newEntry(e.id, 1_000, 'USD'), ...e })),
});

describe("the user's weekly cap refusing an approval", () => {
  it('declines a request and records the decline on its entry', () => {
    const { decision, next } = declinedByUserWeeklyCap(
      emptyLedger(),
      {
        kind: 'authorization.request',
        transactionId: 'tx-1',
        amount: 9_000,
        currency: 'USD',
        merchant,
        occurredAtMs: 7_000,
      },
      2_500,
      6_000,
    );
    expect(decision).toEqual({
      approved: false,
      declineCode: 'EXCEEDS_USER_WEEKLY_LIMIT',
      reason: "the user's weekly spend 2500 + 9000 would exceed 6000",
    });
    expect(next.ledger.entries).toHaveLength(1);
    expect(next.entry).toMatchObject({
      id: 'tx-1',
      authorized: 0,
      declined: true,
      declineCode: 'EXCEEDS_USER_WEEKLY_LIMIT',
      merchant,
      atMs: 7_000,
    });
  });

  it('declines an increment and leaves the authorization it would have grown as it was', () => {
    const books = ledger({ id: 'tx-1', authorized: 2_000 });
    const { decision, next } = declinedByUserWeeklyCap(
      books,
      { kind: 'authorization.increment', transactionId: 'tx-1', amount: 500 },
      5_800,
      6_000,
    );
    expect(decision).toMatchObject({ approved: false, declineCode: 'EXCEEDS_USER_WEEKLY_LIMIT' });
    expect(next.ledger).toBe(books);
    expect(heldOf(next.entry)).toBe(2_000);
  });
});

describe('retiring a card whose authorizations are all used and settled', () => {
  const card = (o: Partial<Parameters<typeof allAuthorizationsSettled>[0]> = {}) => ({
    status: 'active' as const,
    maxAuthorizations: 1,
    approvals: 1,
    ledger: ledger({ id: 'tx-1', authorized: 1_000, captured: 1_000, cleared: true }),
    ...o,
  });

  it('happens once the last one is captured, reversed or expired, frozen or not', () => {
    expect(allAuthorizationsSettled(card())).toBe(true);
    expect(
      allAuthorizationsSettled(card({ ledger: ledger({ id: 'tx-1', authorized: 1_000, reversed: 1_000 }) })),
    ).toBe(true);
    expect(
      allAuthorizationsSettled(card({ ledger: ledger({ id: 'tx-1', authorized: 1_000, expired: true }) })),
    ).toBe(true);
    expect(allAuthorizationsSettled(card({ status: 'frozen' }))).toBe(true);
  });

  it('waits while anything is still held', () => {
    const held = ledger({ id: 'tx-1', authorized: 1_000, reversed: 400 });
    expect(allAuthorizationsSettled(card({ ledger: held }))).toBe(false);
  });

  it('never happens before the last allowed approval, nor on an unlimited or final card', () => {
    expect(allAuthorizationsSettled(card({ maxAuthorizations: 2 }))).toBe(false);
    expect(allAuthorizationsSettled(card({ maxAuthorizations: null, approvals: 50 }))).toBe(false);
    expect(allAuthorizationsSettled(card({ status: 'canceled' }))).toBe(false);
    expect(allAuthorizationsSettled(card({ status: 'expired' }))).toBe(false);
    expect(allAuthorizationsSettled(card({ status: 'pending' }))).toBe(false);
  });
});
