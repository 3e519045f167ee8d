import type { Knex } from 'knex';
import { recordDecision } from '../admin-actions/decisions';
import type { UserOverrideState } from '../admin-actions/user-fields';

export interface RevertUserOverrideInput {
  tenantId: string;
  actionId: string;
  userId: string;
  before: Partial<UserOverrideState>;
  after: Partial<UserOverrideState>;
}

/** Activities behind user-level overrides (the user's row is the state; no workflow owns it). */
export function createUserActivities(deps: { knex: Knex }) {
  const { knex } = deps;
  return {
    /**
     * Restores the fields an expired user override changed, under the user's row lock, unless they
     * were changed again since (then the override just lapses). Records the decision once.
     */
    async revertUserOverride(input: RevertUserOverrideInput): Promise<'reverted' | 'expired'> {
      return knex.transaction(async (trx) => {
        const done = await trx('admin_action_decisions')
          .where({ tenantId: input.tenantId, actionId: input.actionId })
          .whereIn('decision', ['reverted', 'expired'])
          .first();
        if (done) return done.decision as 'reverted' | 'expired';
        const user = await trx('users')
          .where({ tenantId: input.tenantId, id: input.userId })
          .forUpdate()
          .first();
        const unchanged = Object.entries(input.after).every(([k, v]) => user?.[k] === v);
        const decision = unchanged ? 'reverted' : 'expired';
        if (unchanged) {
          await trx('users')
            .where({ tenantId: input.tenantId, id: input.userId })
            .update({ ...input.before, updatedAt: trx.fn.now() });
        }
        await recordDecision(trx, {
          tenantId: input.tenantId,
          actionId: input.actionId,
          decision,
          decidedBy: 'system',
          note: unchanged ? null : 'the user changed since the override; nothing restored',
          after: unchanged ? input.before : null,
        });
        return decision;
      });
    },
  };
}

export type UserActivities = ReturnType<typeof createUserActivities>;
