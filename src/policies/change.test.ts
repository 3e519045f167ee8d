import fc from 'fast-check';
import { DEFAULT_POLICY } from '../domain/policy';
import { limitsRaisedAboveThreshold } from './change';

const policy = {
  ...DEFAULT_POLICY,
  partner: 'sandbox',
  maxCardSpendLimit: 50_000,
  weeklySpendLimitPerUser: 20_000,
  overrideApprovalThreshold: 100_000,
};

describe('raising a limit above the approval threshold', () => {
  it('names each guarded limit raised past the threshold, and nothing lowered or within it', () => {
    expect(limitsRaisedAboveThreshold(policy, { maxCardSpendLimit: 90_000 })).toEqual([]);
    expect(limitsRaisedAboveThreshold(policy, { maxCardSpendLimit: 150_000 })).toEqual(['maxCardSpendLimit']);
    expect(limitsRaisedAboveThreshold(policy, { maxCardSpendLimit: 10 })).toEqual([]);
    // No cap at all is the highest limit there is.
    expect(limitsRaisedAboveThreshold(policy, { weeklySpendLimitPerUser: null })).toEqual([
      'weeklySpendLimitPerUser',
    ]);
    expect(
      limitsRaisedAboveThreshold(
        { ...policy, weeklySpendLimitPerUser: null },
        { weeklySpendLimitPerUser: null },
      ),
    ).toEqual([]);
    expect(limitsRaisedAboveThreshold(policy, { overrideApprovalThreshold: 100_001 })).toEqual([
      'overrideApprovalThreshold',
    ]);
    expect(limitsRaisedAboveThreshold(policy, { timeZone: 'Europe/Paris', partner: 'other' })).toEqual([]);
  });

  it('never lets a change through that ends above the threshold and higher than before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (prev, next) => {
          const raised = limitsRaisedAboveThreshold(
            { ...policy, maxCardSpendLimit: prev },
            { maxCardSpendLimit: next },
          );
          expect(raised.length > 0).toBe(next > prev && next > policy.overrideApprovalThreshold);
        },
      ),
    );
  });
});
