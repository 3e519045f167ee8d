/** ISO 4217 code: three upper-case letters. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** Money is an integer number of minor units with its currency; never a float. */
export interface Money {
  amount: number;
  currency: string;
}

/**
 * The largest amount the platform takes anywhere (10^13 minor units: $100 billion): what an app or
 * operator may write, and what a partner's event may carry. Far below 2^53, so sums of any
 * realistic number of amounts stay exact in a double.
 */
export const MAX_AMOUNT = 10_000_000_000_000;

/** Whether an amount is a whole number of minor units the platform accepts (0 to MAX_AMOUNT). */
export const isAcceptedAmount = (amount: unknown): boolean =>
  typeof amount === 'number' && Number.isSafeInteger(amount) && amount >= 0 && amount <= MAX_AMOUNT;

export function assertMinorUnits(amount: number, what = 'amount'): void {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`${what} must be an integer number of minor units`);
}

export function addMinor(a: number, b: number): number {
  const sum = a + b;
  assertMinorUnits(sum, 'sum');
  return sum;
}
