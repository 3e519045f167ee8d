import fc from 'fast-check';
import { isLuhnValid, luhnCheckDigit } from './luhn';

describe('Luhn', () => {
  it('accepts known-valid test numbers and rejects a changed digit', () => {
    expect(isLuhnValid('4242424242424242')).toBe(true);
    expect(isLuhnValid('4000056655665556')).toBe(true);
    expect(isLuhnValid('4242424242424241')).toBe(false);
    expect(isLuhnValid('42424242')).toBe(false);
    expect(isLuhnValid('4242a24242424242')).toBe(false);
  });

  it('makes every payload valid with its check digit, and any single-digit change invalid', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{15}$/),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 1, max: 9 }),
        (payload, pos, delta) => {
          const n = payload + String(luhnCheckDigit(payload));
          expect(isLuhnValid(n)).toBe(true);
          const changed = n.slice(0, pos) + String((Number(n[pos]) + delta) % 10) + n.slice(pos + 1);
          expect(isLuhnValid(changed)).toBe(false);
        },
      ),
    );
  });
});
