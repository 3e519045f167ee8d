import type { Knex } from 'knex';
import { DomainError } from '../domain/errors';
import type { UserActionType } from '../domain/overrides';

export interface UserOverrideState {
  status: 'active' | 'suspended';
  weeklyCardLimitLifted: boolean;
  weeklySpendLimit: number | null;
}

const pick = (u: UserOverrideState): UserOverrideState => ({
  status: u.status,
  weeklyCardLimitLifted: u.weeklyCardLimitLifted,
  weeklySpendLimit: u.weeklySpendLimit,
});

/** What a user action changes, as the fields it sets. */
export function userActionTarget(
  type: UserActionType,
  params: Record<string, unknown>,
): Partial<UserOverrideState> {
  switch (type) {
    case 'lift_weekly_card_limit':
      return { weeklyCardLimitLifted: true };
    case 'set_weekly_spend_limit':
      return { weeklySpendLimit: Number(params.amount) };
    case 'suspend':
      return { status: 'suspended' };
    case 'reinstate':
      return { status: 'active' };
  }
}

/**
 * Applies a user action under the user's row lock (the same lock issuance takes), returning the
 * user's override fields before and after.
 */
export async function applyUserFields(
  knex: Knex,
  tenantId: string,
  userId: string,
  fields: Partial<UserOverrideState>,
  guard?: (current: UserOverrideState) => void,
): Promise<{ before: UserOverrideState; after: UserOverrideState }> {
  return knex.transaction(async (trx) => {
    const user = await trx('users')
      .where({ tenantId, id: userId })
      .forUpdate()
      .first<UserOverrideState | undefined>();
    if (!user) throw new DomainError('NOT_FOUND', 'user not found');
    const before = pick(user);
    guard?.(before);
    await trx('users')
      .where({ tenantId, id: userId })
      .update({ ...fields, updatedAt: trx.fn.now() });
    return { before, after: { ...before, ...fields } };
  });
}
