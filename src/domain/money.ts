/** ISO 4217 code: three upper-case letters. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** Money is an integer number of minor units with its currency; never a float. */
export interface Money {
  amount: number;
  currency: string;
}

export function assertMinorUnits(amount: number, what = 'amount'): void {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`${what} must be an integer number of minor units`);
}

export function addMinor(a: number, b: number): number {
  const sum = a + b;
  assertMinorUnits(sum, 'sum');
  return sum;
}
