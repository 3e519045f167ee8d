import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { AdminAction } from '../db/models';
import { Card } from '../db/models';
import { DomainError } from '../domain/errors';
import type { CardActionType, UserActionType } from '../domain/overrides';
import { applyUserFields, userActionTarget, type UserOverrideState } from './user-fields';
import { applyOverrideUpdate } from '../workflows/messages';
import type { userOverrideExpiryWorkflow } from '../workflows/user-override-workflow';
import { userOverrideWorkflowId } from '../workflows/user-override-workflow';
import { issueCard } from '../api/cards/router';
import type { CreateCardBody } from '../api/cards/schema';
import type { ApiDeps } from '../api/context';
import { toErrorResponse } from '../api/errors';

async function recordDecision(
  deps: ApiDeps,
  a: AdminAction,
  decision: 'applied' | 'failed',
  decidedBy: string,
  after?: Record<string, unknown>,
  note?: string,
): Promise<void> {
  await deps
    .knex('admin_action_decisions')
    .insert({
      tenantId: a.tenantId,
      actionId: a.id,
      decision,
      decidedBy,
      note: note ?? null,
      after: after === undefined ? null : JSON.stringify(after),
    })
    .onConflict(['tenantId', 'actionId', 'decision'])
    .ignore();
}

/**
 * Carries out an admin action that needs no (more) approval: card overrides through the card
 * workflow's `applyOverride` update (the workflow records the outcome and arms any expiry timer);
 * user overrides in the database under the user's row lock, with a timer workflow for `expiresAt`;
 * admin issuance through the same path as the app's. A refusal is recorded as `failed` and re-thrown.
 */
export async function applyAction(deps: ApiDeps, a: AdminAction): Promise<Record<string, unknown>> {
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
      return result.after;
    }
    if (a.type === 'issue_card') {
      const { request, overrides } = a.params as {
        request: CreateCardBody;
        overrides: Record<string, boolean>;
      };
      const card = await issueCard(
        deps,
        a.tenantId,
        `action:${a.id}`,
        request,
        { type: 'operator', id: a.requestedBy },
        a.reason,
        { overrides, actionId: a.id, requestHash: `action:${a.id}` },
      );
      const after = { cardId: card.id };
      await recordDecision(deps, a, 'applied', a.requestedBy, after);
      return { ...after, card };
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
    await recordDecision(deps, a, 'applied', a.requestedBy, pickFields(after));
    return pickFields(after);
  } catch (err) {
    const { body } = toErrorResponse(err);
    await recordDecision(deps, a, 'failed', 'system', undefined, `${body.error.code}: ${body.error.message}`);
    throw err;
  }
}
