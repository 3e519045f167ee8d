import fc from 'fast-check';
import { latestOutcome } from './outcomes';

const row = (outcome: string, details: Record<string, unknown> = {}) => ({ outcome, details });

describe('a delivery’s latest outcome', () => {
  it('is the newest row', () => {
    expect(latestOutcome([row('parked'), row('applied')])).toEqual(row('applied'));
    expect(latestOutcome([row('failed'), row('applied', { replay: true })])).toEqual(
      row('applied', { replay: true }),
    );
    expect(latestOutcome([])).toBeUndefined();
  });

  it('is never a duplicate of the delivery’s own processing over another of its outcomes', () => {
    const stand = row('applied', { standIn: true });
    expect(latestOutcome([stand, row('duplicate')])).toBe(stand);
    expect(latestOutcome([row('duplicate'), row('duplicate')])!.outcome).toBe('duplicate');
    // An operator's replay is a later pass: its duplicate is the latest.
    expect(latestOutcome([stand, row('duplicate', { replay: true })])!.details).toEqual({ replay: true });
  });

  it('is, for any rows, the newest that is not a plain duplicate, else the newest', () => {
    const anyRow = fc.record({
      outcome: fc.constantFrom('applied', 'duplicate', 'ignored', 'parked', 'failed'),
      details: fc.oneof(fc.constant({}), fc.constant({ replay: true })),
      n: fc.nat(),
    });
    fc.assert(
      fc.property(fc.array(anyRow, { maxLength: 8 }), (rows) => {
        const got = latestOutcome(rows);
        const plainDuplicate = (r: (typeof rows)[number]) =>
          r.outcome === 'duplicate' && !('replay' in r.details);
        const others = rows.filter((r) => !plainDuplicate(r));
        expect(got).toBe(others.length ? others[others.length - 1] : rows[rows.length - 1]);
      }),
    );
  });
});
