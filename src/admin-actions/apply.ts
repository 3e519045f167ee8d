import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { AdminAction } from '../db/models';
import { Card } from '../db/models';
import { DomainError } from '../domain/errors';
import type { CardActionType, UserActionType } from '../domain/overrides';
import { applyUserFields, userActionTarget, type UserOverrideState } from './user-fields';
import { applyOverrideUpdate } from '../workflows/messages';
import type { userOverrideExpiryWorkflow } from '../workflows/user-override-workflow';
import { userOverrideWorkflowId } from '../workflows/user-override-workflow';
import { issueCard, type CardRequest, type IssuanceDeps } from '../issuance/issue-card';
import { refusalOf } from '../temporal/failures';
import type { ProgramPolicy } from '../domain/policy';
import { writePolicyChange } from '../policies/change';
import { recordDecision } from './decisions';

export type AdminActionDeps = IssuanceDeps;

/** What a failure leaves in the action's `failed` decision: the refusal's code and message. */
function failureNote(err: unknown): string {
  const refusal = refusalOf(err);
  return refusal
    ? `${refusal.code}: ${refusal.message}`
    : 'INTERNAL: internal error; the request id identifies it in the logs';
}

/**
 * Carries out an admin action that needs no (more) approval: card overrides through the card
 * workflow's `applyOverride` update (the workflow records the outcome and arms any expiry timer);
 * user overrides in the database under the user's row lock, with a timer workflow for `expiresAt`;
 * admin issuance through the same path as the app's. A refusal is recorded as `failed` and re-thrown.
 */
export async function applyAction(
  deps: AdminActionDeps,
  a: AdminAction,
): Promise<{ after: Record<string, unknown>; cardId?: string }> {
  const decided = (
    decision: 'applied' | 'failed',
    decidedBy: string,
    after?: Record<string, unknown>,
    note?: string,
  ) => recordDecision(deps.knex, { tenantId: a.tenantId, actionId: a.id, decision, decidedBy, after, note });
  try {
    if (a.subjectType === 'card') {
      const card = await Card.query(deps.knex).where({ tenantId: a.tenantId, id: a.subjectId }).first();
      if (!card) throw new DomainError('NOT_FOUND', 'card not found');
      const result = await deps.temporal.workflow
        .getHandle(card.workflowId)
        .executeUpdate(applyOverrideUpdate, {
          updateId: a.id,
          args: [
            {
              actionId: a.id,
              type: a.type as CardActionType,
              params: a.params,
              reason: a.reason,
              expiresAtMs: a.expiresAt ? new Date(a.expiresAt).getTime() : undefined,
              actor: { type: 'operator', id: a.requestedBy },
            },
          ],
        });
      return { after: result.after };
    }
    if (a.type === 'change_policy') {
      const { patch } = a.params as { patch: Partial<ProgramPolicy> };
      const { version } = await writePolicyChange(deps.knex, {
        tenantId: a.tenantId,
        patch,
        createdBy: a.requestedBy,
        reason: `${a.reason} (approved action ${a.id})`,
      });
      const after = { version };
      await decided('applied', a.requestedBy, after);
      return { after };
    }
    if (a.type === 'issue_card') {
      const { request, overrides } = a.params as {
        request: CardRequest;
        overrides: Record<string, boolean>;
      };
      const { cardId } = await issueCard(deps, {
        tenantId: a.tenantId,
        idempotencyKey: `action:${a.id}`,
        request,
        issuedBy: { type: 'operator', id: a.requestedBy },
        reason: a.reason,
        overrides,
        actionId: a.id,
        requestHash: `action:${a.id}`,
      });
      const after = { cardId };
      await decided('applied', a.requestedBy, after);
      return { after, cardId };
    }
    // A user action. Its expiry timer starts first (its id is deterministic), so an applied override
    // can never be left without the timer that reverts it.
    const type = a.type as UserActionType;
    const target = userActionTarget(type, a.params);
    const changed = Object.keys(target) as Array<keyof UserOverrideState>;
    const pickFields = (s: Partial<UserOverrideState>) => Object.fromEntries(changed.map((k) => [k, s[k]]));
    const guard = (current: UserOverrideState): void => {
      if (type === 'suspend' && current.status === 'suspended')
        throw new DomainError('USER_ALREADY_IN_STATE', 'the user is already suspended');
      if (type === 'reinstate' && current.status === 'active')
        throw new DomainError('USER_ALREADY_IN_STATE', 'the user is already active');
    };
    if (a.expiresAt) {
      const current = await deps.knex('users').where({ tenantId: a.tenantId, id: a.subjectId }).first();
      guard(current);
      await deps.temporal.workflow
        .start<typeof userOverrideExpiryWorkflow>('userOverrideExpiryWorkflow', {
          workflowId: userOverrideWorkflowId(a.tenantId, a.id),
          taskQueue: deps.cards.taskQueue,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [
            {
              tenantId: a.tenantId,
              actionId: a.id,
              userId: a.subjectId,
              before: pickFields(current),
              after: pickFields({ ...current, ...target }),
              revertAtMs: new Date(a.expiresAt).getTime(),
            },
          ],
        })
        .catch((err: unknown) => {
          if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
        });
    }
    const { after } = await applyUserFields(deps.knex, a.tenantId, a.subjectId, target, guard);
    await decided('applied', a.requestedBy, pickFields(after));
    return { after: pickFields(after) };
  } catch (err) {
    await decided('failed', 'system', undefined, failureNote(err));
    throw err;
  }
}
