import type { Knex } from 'knex';
import { AdminAction, AdminActionDecision } from '../db/models';
import { DomainError } from '../domain/errors';
import { recordDecision } from './decisions';

export type ActionStatus =
  'pending_approval' | 'approved' | 'rejected' | 'applied' | 'failed' | 'reverted' | 'expired';

/** An action's status is derived from its decisions (both tables are append-only). */
export function deriveStatus(action: AdminAction, decisions: AdminActionDecision[]): ActionStatus {
  const has = (d: string): boolean => decisions.some((x) => x.decision === d);
  if (has('reverted')) return 'reverted';
  if (has('expired')) return 'expired';
  if (has('applied')) return 'applied';
  if (has('failed')) return 'failed';
  if (has('rejected')) return 'rejected';
  if (has('approved')) return 'approved';
  return action.requiresApproval ? 'pending_approval' : 'approved';
}

/** An action with its decisions and the status they give it. */
export async function loadAction(knex: Knex | Knex.Transaction, tenantId: string, id: string) {
  const action = await AdminAction.query(knex).where({ tenantId, id }).first();
  if (!action) throw new DomainError('NOT_FOUND', 'action not found');
  const decisions = await AdminActionDecision.query(knex).where({ tenantId, actionId: id }).orderBy('id');
  return { action, decisions, status: deriveStatus(action, decisions) };
}

/**
 * Records an approver's decision on a pending action, holding the action row's lock so that two
 * approvers (or an approve racing a reject) cannot both decide. The requester may not decide: not
 * with the key that asked, nor with any other key of the same principal.
 */
export async function decide(
  knex: Knex,
  tenantId: string,
  actionId: string,
  decision: 'approved' | 'rejected',
  deciderKeyId: string,
  note?: string,
): Promise<AdminAction> {
  return knex.transaction(async (trx) => {
    const locked = await trx('admin_actions').where({ tenantId, id: actionId }).forUpdate().first();
    if (!locked) throw new DomainError('NOT_FOUND', 'action not found');
    const { action, status } = await loadAction(trx, tenantId, actionId);
    if (status !== 'pending_approval') throw new DomainError('ACTION_NOT_PENDING', `the action is ${status}`);
    const requester = await trx('api_keys').where({ id: action.requestedBy }).first('principal');
    const decider = await trx('api_keys').where({ id: deciderKeyId }).first('principal');
    if (
      action.requestedBy === deciderKeyId ||
      (requester && decider && requester.principal === decider.principal)
    ) {
      throw new DomainError(
        'SELF_APPROVAL_FORBIDDEN',
        'an action must be approved or rejected by someone other than its requester',
      );
    }
    await recordDecision(trx, { tenantId, actionId, decision, decidedBy: deciderKeyId, note });
    return action;
  });
}
