import type { SpendingLimit, CardControls, CardControlsInput } from './controls';
import { regionsWithin } from './regions';
import type { Weekday } from './time-windows';

/** A card program's policy: where cards may be issued and used, caps, and operating parameters. */
export interface ProgramPolicy {
  timeZone: string;
  weekStartsOn: Weekday;
  regions: string[];
  defaultCurrency: string;
  /** Largest amount any single spending limit of a card may have (minor units). */
  maxCardSpendLimit: number;
  /** Limits a card gets when its request names none. */
  defaultSpendingLimits: SpendingLimit[];
  /** Cards issued per user per week; null = no cap. */
  weeklyCardLimitPerUser: number | null;
  /** Amount a user may spend per week across all cards (minor units); null = no cap. */
  weeklySpendLimitPerUser: number | null;
  blockedMccs: string[];
  overrideApprovalThreshold: number;
  authorizationTimeoutMs: number;
  standInDecision: 'decline' | 'approve';
  holdExpiryDays: number;
  /**
   * The partner new cards are issued at (a name in the partner registry). Unset: the platform's
   * default partner (`src/policies` fills it in; the domain names no partner).
   */
  partner?: string;
}

export const DEFAULT_POLICY: ProgramPolicy = {
  timeZone: 'UTC',
  weekStartsOn: 'monday',
  regions: ['US'],
  defaultCurrency: 'USD',
  maxCardSpendLimit: 500_000,
  defaultSpendingLimits: [{ amount: 50_000, interval: 'all_time' }],
  weeklyCardLimitPerUser: 10,
  weeklySpendLimitPerUser: null,
  blockedMccs: [],
  overrideApprovalThreshold: 100_000,
  authorizationTimeoutMs: 1500,
  standInDecision: 'decline',
  holdExpiryDays: 7,
};

/** Fills a card request's omitted controls with the program's defaults. */
export function resolveControls(input: CardControlsInput | undefined, policy: ProgramPolicy): CardControls {
  return {
    spendingLimits: input?.spendingLimits ?? policy.defaultSpendingLimits,
    allowedRegions: input?.allowedRegions ?? policy.regions,
    blockedMccs: input?.blockedMccs ?? [],
    allowedMccs: input?.allowedMccs ?? [],
    maxAuthorizations: input?.maxAuthorizations ?? null,
  };
}

export type IssuanceRefusalCode =
  | 'USER_NOT_ACTIVE'
  | 'REGION_NOT_ALLOWED'
  | 'SPEND_LIMIT_ABOVE_PROGRAM_MAX'
  | 'USER_WEEKLY_CARD_LIMIT_REACHED'
  | 'CARD_EXPIRY_IN_PAST'
  | 'USER_BILLING_ADDRESS_REQUIRED';

export interface IssuanceRefusal {
  code: IssuanceRefusalCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface IssuanceCheckInput {
  policy: ProgramPolicy;
  user: { status: 'active' | 'suspended'; region: string };
  controls: CardControls;
  expiresAtMs: number;
  nowMs: number;
  /** Cards issued to the user in the current week (program time zone), this one excluded. */
  cardsIssuedThisWeek: number;
  /** Override allowances (operator issuance with approval, lifted weekly caps). */
  overrides?: {
    ignoreWeeklyCardLimit?: boolean;
    ignoreSpendLimitMax?: boolean;
    ignoreProgramRegions?: boolean;
  };
}

/** Issuance rules, in the order a refusal is reported. Returns null when the card may be issued. */
export function checkIssuance(i: IssuanceCheckInput): IssuanceRefusal | null {
  if (i.user.status !== 'active') return { code: 'USER_NOT_ACTIVE', message: 'the user is not active' };
  if (!regionsWithin([i.user.region], i.policy.regions)) {
    return {
      code: 'REGION_NOT_ALLOWED',
      message: `the user's region ${i.user.region} is outside the program's regions`,
      details: { userRegion: i.user.region, programRegions: i.policy.regions },
    };
  }
  if (!i.overrides?.ignoreProgramRegions && !regionsWithin(i.controls.allowedRegions, i.policy.regions)) {
    return {
      code: 'REGION_NOT_ALLOWED',
      message: "the card's allowed regions are not all within the program's regions",
      details: { allowedRegions: i.controls.allowedRegions, programRegions: i.policy.regions },
    };
  }
  if (i.expiresAtMs <= i.nowMs)
    return { code: 'CARD_EXPIRY_IN_PAST', message: 'expiresAt must be in the future' };
  if (!i.overrides?.ignoreSpendLimitMax) {
    const over = i.controls.spendingLimits.find((l) => l.amount > i.policy.maxCardSpendLimit);
    if (over) {
      return {
        code: 'SPEND_LIMIT_ABOVE_PROGRAM_MAX',
        message: `a ${over.interval} limit of ${over.amount} exceeds the program maximum of ${i.policy.maxCardSpendLimit}`,
        details: { limit: over, maxCardSpendLimit: i.policy.maxCardSpendLimit },
      };
    }
  }
  const cap = i.policy.weeklyCardLimitPerUser;
  if (cap !== null && !i.overrides?.ignoreWeeklyCardLimit && i.cardsIssuedThisWeek >= cap) {
    return {
      code: 'USER_WEEKLY_CARD_LIMIT_REACHED',
      message: `the user already has ${i.cardsIssuedThisWeek} cards this week (cap ${cap})`,
      details: { cardsIssuedThisWeek: i.cardsIssuedThisWeek, weeklyCardLimitPerUser: cap },
    };
  }
  return null;
}
