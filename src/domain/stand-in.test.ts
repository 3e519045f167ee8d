import fc from 'fast-check';
import { emptyLedger, heldOf, newEntry, type Ledger, type LedgerEntry } from './ledger';
import { applyStandIn, standInAnswer, type StandInEvent } from './stand-in';

const merchant = { mcc: '5812', country: 'US', name: 'Diner' };
const standIn = (approved: boolean, amount = 1_000, extra: Partial<StandInEvent> = {}): StandInEvent => ({
  kind: 'authorization.stand_in',
  transactionId: 'tx-1',
  amount,
  currency: 'USD',
  merchant,
  approved,
  occurredAtMs: 5_000,
  ...extra,
});
const ledgerWith = (e: Partial<LedgerEntry>): Ledger => ({
  ...emptyLedger(),
  entries: [{ ...newEntry('tx-1', 4_000, 'USD'), ...e }],
});
const entryOf = (l: Ledger) => l.entries.find((e) => e.id === 'tx-1')!;

describe('a stand-in of an authorization request', () => {
  it('that the partner declined releases what the card approved, and takes its approval back', () => {
    const o = applyStandIn(ledgerWith({ authorized: 1_000 }), standIn(false), 'USD', { approved: true });
    expect(entryOf(o.next.ledger)).toMatchObject({
      authorized: 1_000,
      reversed: 1_000,
      flags: ['stand_in_release'],
    });
    expect(heldOf(o.next.entry)).toBe(0);
    expect(o).toMatchObject({ cardApproved: true, approvalsDelta: -1 });
  });

  it('that the partner approved holds the amount the card declined, and counts it', () => {
    const declined = ledgerWith({ declined: true, declineCode: 'EXCEEDS_SPENDING_LIMIT' });
    const o = applyStandIn(declined, standIn(true), 'USD', { approved: false });
    expect(entryOf(o.next.ledger)).toMatchObject({
      authorized: 1_000,
      declined: false,
      declineCode: null,
      flags: ['stand_in'],
    });
    expect(heldOf(o.next.entry)).toBe(1_000);
    expect(o).toMatchObject({ cardApproved: false, approvalsDelta: 1 });
  });

  it('the card never decided is booked as the partner acted', () => {
    const approved = applyStandIn(emptyLedger(), standIn(true, 700), 'USD', undefined);
    expect(approved.next.entry).toMatchObject({ id: 'tx-1', authorized: 700, atMs: 5_000, merchant });
    expect(approved.approvalsDelta).toBe(1);
    const declined = applyStandIn(emptyLedger(), standIn(false, 700), 'USD', undefined);
    expect(declined.next.entry).toMatchObject({ authorized: 0, declined: true, declineCode: 'STAND_IN' });
    expect(declined.approvalsDelta).toBe(0);
  });

  it('agreeing with the card changes neither the hold nor the count', () => {
    const o = applyStandIn(ledgerWith({ authorized: 1_000 }), standIn(true), 'USD', { approved: true });
    expect(o.next.entry).toMatchObject({ authorized: 1_000, reversed: 0, flags: ['stand_in'] });
    expect(o.approvalsDelta).toBe(0);
  });

  it('with no remembered answer reads the card’s decision from its books', () => {
    // Decided in an earlier run (the in-memory answers are bounded): the hold is the card's approval.
    const o = applyStandIn(ledgerWith({ authorized: 1_000 }), standIn(false), 'USD', undefined);
    expect(o).toMatchObject({ cardApproved: true, approvalsDelta: -1 });
    expect(heldOf(o.next.entry)).toBe(0);
  });
});

describe('a stand-in of an increment', () => {
  const holding = ledgerWith({ authorized: 1_000, merchant });

  it('that the partner approved and the card did not grows the hold by it', () => {
    const o = applyStandIn(holding, standIn(true, 250, { increment: true }), 'USD', undefined);
    expect(o.next.entry).toMatchObject({ authorized: 1_250, reversed: 0, flags: ['stand_in'] });
    // An increment is never an authorization of its own.
    expect(o).toMatchObject({ cardApproved: false, approvalsDelta: 0 });
  });

  it('that the card approved and the partner declined shrinks the hold back', () => {
    const grown = ledgerWith({ authorized: 1_250, merchant });
    const o = applyStandIn(grown, standIn(false, 250, { increment: true }), 'USD', { approved: true });
    expect(o.next.entry).toMatchObject({ authorized: 1_250, reversed: 250, flags: ['stand_in_release'] });
    expect(heldOf(o.next.entry)).toBe(1_000);
    expect(o.approvalsDelta).toBe(0);
  });

  it('on which both agree only marks the entry', () => {
    const o = applyStandIn(holding, standIn(false, 250, { increment: true }), 'USD', { approved: false });
    expect(o.next.entry).toMatchObject({ authorized: 1_000, reversed: 0, flags: ['stand_in_release'] });
  });

  it('is booked in the card’s currency when it has one', () => {
    const o = applyStandIn(
      emptyLedger(),
      standIn(true, 250, { increment: true, currency: 'XXX' }),
      'EUR',
      undefined,
    );
    expect(o.next.entry.currency).toBe('EUR');
  });
});

describe('standInAnswer', () => {
  it('is what the partner acted on', () => {
    expect(standInAnswer({ approved: true, amount: 900 })).toEqual({
      approved: true,
      approvedAmount: 900,
      declineCode: null,
    });
    expect(standInAnswer({ approved: false, amount: 900 })).toEqual({
      approved: false,
      approvedAmount: 0,
      declineCode: 'STAND_IN',
    });
  });
});

describe('property: the books end as the partner acted, whatever the card decided', () => {
  it('a request: held = the amount iff the partner approved, and one approval counted iff so', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom('approved', 'declined', 'undecided'),
        fc.boolean(),
        fc.boolean(),
        (amount, card, partnerApproved, remembers) => {
          // What the card's books hold before the stand-in, and how many approvals it counted.
          const ledger =
            card === 'approved'
              ? ledgerWith({ authorized: amount })
              : card === 'declined'
                ? ledgerWith({ declined: true, declineCode: 'MCC_BLOCKED' })
                : emptyLedger();
          const countedBefore = card === 'approved' ? 1 : 0;
          const ours = remembers && card !== 'undecided' ? { approved: card === 'approved' } : undefined;
          const o = applyStandIn(ledger, standIn(partnerApproved, amount), 'USD', ours);
          const entry = entryOf(o.next.ledger);
          return (
            heldOf(entry) === (partnerApproved ? amount : 0) &&
            countedBefore + o.approvalsDelta === (partnerApproved ? 1 : 0)
          );
        },
      ),
    );
  });

  it('an increment: the hold grows by it iff the partner approved it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.boolean(),
        fc.boolean(),
        (base, inc, cardApproved, partnerApproved) => {
          const ledger = ledgerWith({ authorized: base + (cardApproved ? inc : 0), merchant });
          const o = applyStandIn(ledger, standIn(partnerApproved, inc, { increment: true }), 'USD', {
            approved: cardApproved,
          });
          return (
            heldOf(entryOf(o.next.ledger)) === base + (partnerApproved ? inc : 0) && o.approvalsDelta === 0
          );
        },
      ),
    );
  });
});
