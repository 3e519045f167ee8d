/**
 * Operator overrides: which exist, what they act on, and when one needs a second person's approval.
 */
import type { SpendingLimit } from './controls';
import type { ProgramPolicy } from './policy';

export const CARD_ACTION_TYPES = [
  'freeze',
  'unfreeze',
  'cancel',
  'set_spending_limits',
  'allow_regions',
  'extend_expiry',
] as const;
export const USER_ACTION_TYPES = [
  'lift_weekly_card_limit',
  'set_weekly_spend_limit',
  'suspend',
  'reinstate',
] as const;
export type CardActionType = (typeof CARD_ACTION_TYPES)[number];
export type UserActionType = (typeof USER_ACTION_TYPES)[number];
export type ActionType = CardActionType | UserActionType | 'issue_card';

/** Actions whose effect cannot be undone by a timer. */
export const IRREVERSIBLE_ACTIONS: readonly ActionType[] = ['cancel', 'issue_card'];

export type CardActionParams =
  | { type: 'freeze' | 'unfreeze' | 'cancel'; params: Record<string, never> }
  | { type: 'set_spending_limits'; params: { spendingLimits: SpendingLimit[] } }
  | { type: 'allow_regions'; params: { regions: string[] } }
  | { type: 'extend_expiry'; params: { expiresAt: string } };

export interface ApprovalRequirement {
  required: boolean;
  /** The amount compared with overrideApprovalThreshold, when the action has one. */
  amount: number | null;
  reasons: string[];
}

/**
 * An action needs an approver when it goes beyond a program cap or limit, or when the amount it
 * grants exceeds the program's overrideApprovalThreshold.
 */
export function approvalRequirement(
  action: { type: ActionType; params: Record<string, unknown> },
  policy: ProgramPolicy,
  context: { beyondProgramCaps?: string[] } = {},
): ApprovalRequirement {
  const reasons: string[] = [...(context.beyondProgramCaps ?? [])];
  let amount: number | null = null;
  if (action.type === 'set_spending_limits') {
    const limits = (action.params.spendingLimits ?? []) as SpendingLimit[];
    amount = limits.reduce((m, l) => Math.max(m, l.amount), 0);
    if (amount > policy.maxCardSpendLimit)
      reasons.push(`a limit of ${amount} is above the program maximum ${policy.maxCardSpendLimit}`);
  } else if (action.type === 'set_weekly_spend_limit') {
    amount = Number(action.params.amount);
    if (policy.weeklySpendLimitPerUser !== null && amount > policy.weeklySpendLimitPerUser) {
      reasons.push(`${amount} is above the program's weekly spend cap ${policy.weeklySpendLimitPerUser}`);
    }
  } else if (action.type === 'lift_weekly_card_limit') {
    reasons.push("lifting the program's weekly card cap");
  }
  // issue_card: within policy it is no override at all; beyond a cap (context) it always needs approval.
  if (amount !== null && amount > policy.overrideApprovalThreshold) {
    reasons.push(`${amount} is above the approval threshold ${policy.overrideApprovalThreshold}`);
  }
  return { required: reasons.length > 0, amount, reasons };
}
