import fc from 'fast-check';
import { amountsOutOfRange } from './events';
import { isAcceptedAmount, MAX_AMOUNT } from './money';

describe('the maximum amount', () => {
  it('accepts exactly the whole numbers from 0 to 10^13', () => {
    expect(MAX_AMOUNT).toBe(10 ** 13);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_AMOUNT }), (n) => isAcceptedAmount(n)),
      { seed: 15 },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: MAX_AMOUNT + 1, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
          fc.double({ noInteger: true }),
          fc.constantFrom(Number.NaN, Infinity, 2 ** 53, '100' as unknown as number),
        ),
        (n) => !isAcceptedAmount(n),
      ),
      { seed: 15 },
    );
  });

  it('names the amounts of an event that are out of range', () => {
    const base = { eventId: 'e', partner: 'p', partnerCardId: 'c', occurredAtMs: 0, transactionId: 't' };
    expect(amountsOutOfRange({ ...base, kind: 'clearing', amount: MAX_AMOUNT, currency: 'USD' })).toEqual([]);
    expect(amountsOutOfRange({ ...base, kind: 'clearing', amount: MAX_AMOUNT + 1, currency: 'USD' })).toEqual(
      [{ field: 'amount', amount: MAX_AMOUNT + 1 }],
    );
    expect(amountsOutOfRange({ ...base, kind: 'authorization.expiry' })).toEqual([]);
  });
});
