import { overridesForIssuance } from './admin-issuance';
import { DEFAULT_POLICY, resolveControls } from './policy';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const policy = { ...DEFAULT_POLICY, regions: ['US'], weeklyCardLimitPerUser: 2, maxCardSpendLimit: 10_000 };
const base = {
  policy,
  user: { status: 'active' as const, region: 'US-CA' },
  controls: resolveControls({ spendingLimits: [{ amount: 5_000, interval: 'all_time' }] }, policy),
  expiresAtMs: NOW + 86_400_000,
  nowMs: NOW,
  cardsIssuedThisWeek: 0,
};

describe('an operator issuance beyond the program caps', () => {
  it('needs no override within the program', () => {
    expect(overridesForIssuance(base)).toEqual({ ok: true, overrides: {}, beyond: [] });
  });

  it('lifts each cap it goes past, once, and says which in the order checked', () => {
    const r = overridesForIssuance({
      ...base,
      cardsIssuedThisWeek: 2,
      controls: {
        ...base.controls,
        allowedRegions: ['FR'],
        spendingLimits: [{ amount: 20_000, interval: 'all_time' }],
      },
    });
    expect(r).toEqual({
      ok: true,
      overrides: { ignoreProgramRegions: true, ignoreSpendLimitMax: true, ignoreWeeklyCardLimit: true },
      beyond: [
        expect.stringContaining('allowed regions'),
        expect.stringContaining('exceeds the program maximum'),
        expect.stringContaining('cards this week'),
      ],
    });
  });

  it('keeps an override already granted (a lifted weekly cap) without counting it as beyond', () => {
    const r = overridesForIssuance({ ...base, cardsIssuedThisWeek: 5 }, { ignoreWeeklyCardLimit: true });
    expect(r).toEqual({ ok: true, overrides: { ignoreWeeklyCardLimit: true }, beyond: [] });
  });

  it('refuses what no override lifts: an inactive user, an expiry in the past, the user’s own region', () => {
    expect(overridesForIssuance({ ...base, user: { ...base.user, status: 'suspended' } })).toMatchObject({
      ok: false,
      refusal: { code: 'USER_NOT_ACTIVE' },
    });
    expect(overridesForIssuance({ ...base, expiresAtMs: NOW - 1 })).toMatchObject({
      ok: false,
      refusal: { code: 'CARD_EXPIRY_IN_PAST' },
    });
    expect(overridesForIssuance({ ...base, user: { ...base.user, region: 'FR' } })).toMatchObject({
      ok: false,
      refusal: { code: 'REGION_NOT_ALLOWED', details: { userRegion: 'FR' } },
    });
  });
});
