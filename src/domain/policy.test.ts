import { checkIssuance, DEFAULT_POLICY, resolveControls, type IssuanceCheckInput } from './policy';

const now = Date.parse('2026-11-25T12:00:00Z');
const base = (over: Partial<IssuanceCheckInput> = {}): IssuanceCheckInput => ({
  policy: { ...DEFAULT_POLICY, regions: ['US'], weeklyCardLimitPerUser: 3, maxCardSpendLimit: 100_000 },
  user: { status: 'active', region: 'US-CA' },
  controls: resolveControls({ spendingLimits: [{ amount: 50_000, interval: 'monthly' }] }, DEFAULT_POLICY),
  expiresAtMs: now + 86_400_000,
  nowMs: now,
  cardsIssuedThisWeek: 0,
  ...over,
});

describe('issuance checks', () => {
  it('admits an active user in the program regions under every cap', () => {
    expect(checkIssuance(base())).toBeNull();
  });

  it('refuses, in order: inactive user, regions, expiry, limit above max, weekly cap', () => {
    expect(checkIssuance(base({ user: { status: 'suspended', region: 'US-CA' } }))?.code).toBe(
      'USER_NOT_ACTIVE',
    );
    expect(checkIssuance(base({ user: { status: 'active', region: 'CA-ON' } }))?.code).toBe(
      'REGION_NOT_ALLOWED',
    );
    expect(
      checkIssuance(base({ controls: { ...base().controls, allowedRegions: ['US', 'MX'] } }))?.code,
    ).toBe('REGION_NOT_ALLOWED');
    expect(checkIssuance(base({ expiresAtMs: now }))?.code).toBe('CARD_EXPIRY_IN_PAST');
    expect(
      checkIssuance(
        base({
          controls: { ...base().controls, spendingLimits: [{ amount: 100_001, interval: 'all_time' }] },
        }),
      )?.code,
    ).toBe('SPEND_LIMIT_ABOVE_PROGRAM_MAX');
    expect(checkIssuance(base({ cardsIssuedThisWeek: 2 }))).toBeNull();
    expect(checkIssuance(base({ cardsIssuedThisWeek: 3 }))?.code).toBe('USER_WEEKLY_CARD_LIMIT_REACHED');
  });

  it('lets overrides lift the weekly cap and the program maximum', () => {
    expect(
      checkIssuance(base({ cardsIssuedThisWeek: 9, overrides: { ignoreWeeklyCardLimit: true } })),
    ).toBeNull();
    expect(
      checkIssuance(
        base({
          controls: { ...base().controls, spendingLimits: [{ amount: 900_000, interval: 'all_time' }] },
          overrides: { ignoreSpendLimitMax: true },
        }),
      ),
    ).toBeNull();
  });

  it('treats a null weekly cap as no cap', () => {
    expect(
      checkIssuance(
        base({ policy: { ...base().policy, weeklyCardLimitPerUser: null }, cardsIssuedThisWeek: 1000 }),
      ),
    ).toBeNull();
  });

  it('fills omitted controls from the program', () => {
    const c = resolveControls(undefined, { ...DEFAULT_POLICY, regions: ['US-CA'] });
    expect(c).toEqual({
      spendingLimits: DEFAULT_POLICY.defaultSpendingLimits,
      allowedRegions: ['US-CA'],
      blockedMccs: [],
      allowedMccs: [],
      maxAuthorizations: null,
    });
  });
});
