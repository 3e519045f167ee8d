/**
 * An operator's issuance beyond the program's caps: which of the program's rules it needs
 * lifted. Pure.
 */
import { checkIssuance, type IssuanceCheckInput, type IssuanceRefusal } from './policy';

type Overrides = NonNullable<IssuanceCheckInput['overrides']>;

/** The refusals an operator may issue past (with an approver), and the override each needs. */
const OVERRIDABLE = {
  USER_WEEKLY_CARD_LIMIT_REACHED: 'ignoreWeeklyCardLimit',
  SPEND_LIMIT_ABOVE_PROGRAM_MAX: 'ignoreSpendLimitMax',
  REGION_NOT_ALLOWED: 'ignoreProgramRegions',
} as const satisfies Partial<Record<IssuanceRefusal['code'], keyof Overrides>>;

/**
 * The overrides an operator's issuance needs, found rule by rule: each overridable refusal is
 * lifted and the rules checked again, until the card may be issued (`beyond` says, in order, what
 * it goes past) or a refusal no override lifts (the user not active, an expiry in the past, the
 * user's own region outside the program: only the card's allowed regions are overridable).
 */
export function overridesForIssuance(
  check: Omit<IssuanceCheckInput, 'overrides'>,
  granted: Overrides = {},
): { ok: true; overrides: Overrides; beyond: string[] } | { ok: false; refusal: IssuanceRefusal } {
  const overrides: Overrides = { ...granted };
  const beyond: string[] = [];
  for (;;) {
    const refusal = checkIssuance({ ...check, overrides });
    if (!refusal) return { ok: true, overrides, beyond };
    const flag = OVERRIDABLE[refusal.code as keyof typeof OVERRIDABLE];
    if (!flag || overrides[flag] || (refusal.code === 'REGION_NOT_ALLOWED' && refusal.details?.userRegion))
      return { ok: false, refusal };
    overrides[flag] = true;
    beyond.push(refusal.message);
  }
}
