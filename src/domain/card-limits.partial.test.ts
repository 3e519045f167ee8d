import fc from 'fast-check';
import { partialWithinUserWeeklyCap } from './card-limits';
import { adviceApprovalsDelta, emptyLedger, heldOf, newEntry, ops, type LedgerEntry } from './ledger';

const merchant = { mcc: '5812', country: 'US' };
const request = (amount: number, cashbackAmount?: number) => ({
  transactionId: 'tx-1',
  amount,
  currency: 'USD',
  merchant,
  occurredAtMs: 7_000,
  ...(cashbackAmount !== undefined ? { cashbackAmount } : {}),
});

describe("a partial approval within the user's weekly cap", () => {
  it('approves what the week leaves and holds exactly that', () => {
    const r = partialWithinUserWeeklyCap(emptyLedger(), request(9_000), 9_000, 2_500, 6_000);
    expect(r?.decision).toEqual({ approved: true, approvedAmount: 3_500 });
    expect(r && heldOf(r.next.entry)).toBe(3_500);
  });

  it('is null when nothing is left, or less than the cash back', () => {
    expect(partialWithinUserWeeklyCap(emptyLedger(), request(9_000), 9_000, 6_000, 6_000)).toBeNull();
    expect(partialWithinUserWeeklyCap(emptyLedger(), request(9_000, 4_000), 9_000, 2_500, 6_000)).toBeNull();
  });

  it('never holds more than the week leaves nor more than was approved (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (approved, spent, limit) => {
          const r = partialWithinUserWeeklyCap(emptyLedger(), request(approved), approved, spent, limit);
          if (!r) return limit - spent < 1 || limit - spent >= approved;
          const held = heldOf(r.next.entry);
          return held >= 1 && held < approved && spent + held <= limit;
        },
      ),
    );
  });
});

describe('how an advice moves the card’s approval count', () => {
  const entry = (f: (e: LedgerEntry) => LedgerEntry): LedgerEntry => f(newEntry('tx-1', 1_000, 'USD'));
  const approvedByCard = entry((e) => ops.authorize(e, 1_000, merchant));
  const declinedByCard = entry((e) => ops.decline(e, 'EXCEEDS_SPENDING_LIMIT', merchant));

  it('agreeing advice changes nothing', () => {
    expect(adviceApprovalsDelta(approvedByCard, true)).toBe(0);
    expect(adviceApprovalsDelta(declinedByCard, false)).toBe(0);
  });

  it('a flip counts one up or down', () => {
    expect(adviceApprovalsDelta(declinedByCard, true)).toBe(1);
    expect(adviceApprovalsDelta(approvedByCard, false)).toBe(-1);
  });

  it('the partner deciding alone counts its approval, not its decline', () => {
    expect(adviceApprovalsDelta(undefined, true)).toBe(1);
    expect(adviceApprovalsDelta(undefined, false)).toBe(0);
  });

  it('a declining advice already applied is not counted twice', () => {
    const overridden = ops.advise(approvedByCard, { approved: false, amount: 1_000 });
    expect(adviceApprovalsDelta(overridden, false)).toBe(0);
    const released = ops.standIn(approvedByCard, false, 1_000);
    expect(adviceApprovalsDelta(released, false)).toBe(0);
    expect(adviceApprovalsDelta(released, true)).toBe(1);
  });
});
