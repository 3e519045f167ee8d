import fc from 'fast-check';
import { CLASSIFIED_FIELDS, classifyPolicyChange, loosenings, type ChangeDirection } from './policy-change';
import { DEFAULT_POLICY, type ProgramPolicy } from './policy';

const base: ProgramPolicy = {
  ...DEFAULT_POLICY,
  regions: ['US', 'CA'],
  blockedMccs: ['7995'],
  weeklySpendLimitPerUser: 200_000,
  defaultSpendingLimits: [
    { amount: 50_000, interval: 'all_time' },
    { amount: 10_000, interval: 'daily' },
  ],
  partner: 'sandbox',
};

/** Every field, each with changes that go each way (the approval rule for every policy field). */
const TABLE: Array<[keyof ProgramPolicy, Partial<ProgramPolicy>, ChangeDirection]> = [
  ['timeZone', { timeZone: 'America/New_York' }, 'loosening'],
  ['weekStartsOn', { weekStartsOn: 'sunday' }, 'loosening'],
  ['regions', { regions: ['US', 'CA', 'MX'] }, 'loosening'],
  ['regions', { regions: ['MX'] }, 'loosening'],
  ['regions', { regions: ['US'] }, 'tightening'],
  ['defaultCurrency', { defaultCurrency: 'EUR' }, 'loosening'],
  ['maxCardSpendLimit', { maxCardSpendLimit: 500_001 }, 'loosening'],
  ['maxCardSpendLimit', { maxCardSpendLimit: 400_000 }, 'tightening'],
  [
    'defaultSpendingLimits',
    { defaultSpendingLimits: [{ amount: 50_000, interval: 'all_time' }] },
    'loosening',
  ],
  [
    'defaultSpendingLimits',
    {
      defaultSpendingLimits: [
        { amount: 50_001, interval: 'all_time' },
        { amount: 10_000, interval: 'daily' },
      ],
    },
    'loosening',
  ],
  [
    'defaultSpendingLimits',
    {
      defaultSpendingLimits: [
        { amount: 40_000, interval: 'all_time' },
        { amount: 10_000, interval: 'daily' },
        { amount: 1_000, interval: 'per_authorization' },
      ],
    },
    'tightening',
  ],
  ['weeklyCardLimitPerUser', { weeklyCardLimitPerUser: 11 }, 'loosening'],
  ['weeklyCardLimitPerUser', { weeklyCardLimitPerUser: null }, 'loosening'],
  ['weeklyCardLimitPerUser', { weeklyCardLimitPerUser: 2 }, 'tightening'],
  ['weeklySpendLimitPerUser', { weeklySpendLimitPerUser: null }, 'loosening'],
  ['weeklySpendLimitPerUser', { weeklySpendLimitPerUser: 300_000 }, 'loosening'],
  ['weeklySpendLimitPerUser', { weeklySpendLimitPerUser: 100_000 }, 'tightening'],
  ['blockedMccs', { blockedMccs: [] }, 'loosening'],
  ['blockedMccs', { blockedMccs: ['7995', '5933'] }, 'tightening'],
  ['overrideApprovalThreshold', { overrideApprovalThreshold: 100_001 }, 'loosening'],
  ['overrideApprovalThreshold', { overrideApprovalThreshold: 5_000 }, 'tightening'],
  ['authorizationTimeoutMs', { authorizationTimeoutMs: 100 }, 'loosening'],
  ['authorizationTimeoutMs', { authorizationTimeoutMs: 1900 }, 'loosening'],
  ['standInDecision', { standInDecision: 'approve' }, 'loosening'],
  ['holdExpiryDays', { holdExpiryDays: 30 }, 'loosening'],
  ['holdExpiryDays', { holdExpiryDays: 1 }, 'loosening'],
  ['partner', { partner: 'stripe' }, 'neutral'],
];

describe('classifyPolicyChange', () => {
  it.each(TABLE)('%s %j is %s', (field, patch, direction) => {
    expect(classifyPolicyChange(base, patch)).toEqual([{ field, direction, reason: expect.any(String) }]);
  });

  it('has a rule, and a table row, for every field of the policy', () => {
    const fields = [...Object.keys(DEFAULT_POLICY), 'partner'].sort();
    expect([...CLASSIFIED_FIELDS].sort()).toEqual(fields);
    expect([...new Set(TABLE.map(([f]) => f))].sort()).toEqual(fields);
  });

  it('a stand-in back to decline tightens', () => {
    const approving = { ...base, standInDecision: 'approve' as const };
    expect(classifyPolicyChange(approving, { standInDecision: 'decline' })[0]!.direction).toBe('tightening');
  });

  it('is not a change when a field is set to its value, and reads every field of a patch', () => {
    expect(classifyPolicyChange(base, { regions: ['US', 'CA'], timeZone: 'UTC' })).toEqual([]);
    const both = classifyPolicyChange(base, { standInDecision: 'approve', authorizationTimeoutMs: 100 });
    expect(loosenings(both).map((c) => c.field)).toEqual(['standInDecision', 'authorizationTimeoutMs']);
  });

  it('never lets a raise of a money cap through as tightening (property)', () => {
    const caps = ['maxCardSpendLimit', 'overrideApprovalThreshold', 'weeklySpendLimitPerUser'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...caps), fc.integer({ min: 1, max: 10 ** 12 }), (field, by) => {
        const before = base[field] as number;
        const [change] = classifyPolicyChange(base, { [field]: before + by });
        return change!.direction === 'loosening';
      }),
    );
  });

  it('a default limit raised anywhere in the list loosens (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 1, max: 10 ** 9 }),
        fc.boolean(),
        (i, by, reorder) => {
          const limits = base.defaultSpendingLimits.map((l, k) =>
            k === i ? { ...l, amount: l.amount + by } : l,
          );
          const [change] = classifyPolicyChange(base, {
            defaultSpendingLimits: reorder ? [...limits].reverse() : limits,
          });
          return change!.direction === 'loosening';
        },
      ),
    );
  });
});
