import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Actor, CardStatus, CardTransition } from '../domain/card-state';
import { decideTransition, isTerminal } from '../domain/card-state';
import type { CardActivities } from '../activities/card-activities';
import {
  changeStatusUpdate,
  getCardQuery,
  issueUpdate,
  type ChangeCardStatusInput,
  type ChangeCardStatusResult,
  type IssueCardInput,
  type IssueCardResult,
} from './messages';
import { initialState, type CardWorkflowInput, type CardWorkflowState } from './card-state';
import { CardStatusSA, RegionSA, UserIdSA } from './search-attributes';

const db = proxyActivities<CardActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 20,
  },
});

const partner = proxyActivities<CardActivities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
  },
});

/** Serialises handlers that await activities and then mutate state. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

function refuse(code: string, message: string, details?: Record<string, unknown>): never {
  throw ApplicationFailure.create({
    type: code,
    message,
    nonRetryable: true,
    details: details ? [details] : undefined,
  });
}

/**
 * One long-running workflow per card: issuance, status changes, (later) partner events and
 * authorizations. It is the only writer of the card's state; activities persist what it decides.
 */
export async function cardWorkflow(input: CardWorkflowInput): Promise<void> {
  const state: CardWorkflowState = input.state ?? initialState(input.tenantId, input.cardId);
  const mutex = new Mutex();

  const transition = async (
    to: CardStatus,
    frozenBy: CardWorkflowState['frozenBy'],
    actor: Actor,
    cause: string,
    reason?: string,
  ): Promise<void> => {
    const from = state.status === 'new' ? null : state.status;
    state.transitionSeq += 1;
    await db.recordTransition({
      tenantId: state.tenantId,
      cardId: state.cardId,
      from,
      to,
      frozenBy,
      actor,
      cause,
      reason,
      eventKey: `t${state.transitionSeq}`,
      occurredAtMs: Date.now(),
    });
    state.status = to;
    state.frozenBy = frozenBy;
    upsertSearchAttributes([{ key: CardStatusSA, value: to }]);
  };

  setHandler(getCardQuery, () => ({
    cardId: state.cardId,
    tenantId: state.tenantId,
    status: state.status,
    frozenBy: state.frozenBy,
    historyLength: workflowInfo().historyLength,
    runsSoFar: state.runsSoFar,
  }));

  setHandler(
    issueUpdate,
    (req: IssueCardInput): Promise<IssueCardResult> =>
      mutex.run(async () => {
        if (state.status !== 'new') return { cardId: state.cardId, status: state.status };
        const reserved = await db.reserveIssuance({ ...req, requestedAtMs: Date.now() });
        if (!reserved.ok) {
          state.status = 'canceled';
          refuse(reserved.refusal.code, reserved.refusal.message, reserved.refusal.details);
        }
        state.status = 'pending';
        state.userId = reserved.userId;
        state.region = reserved.region;
        state.currency = reserved.currency;
        state.expiresAtMs = reserved.expiresAtMs;
        state.partner = reserved.partner;
        state.transitionSeq = 1; // t1 = the pending row written with the reservation
        upsertSearchAttributes([
          { key: UserIdSA, value: reserved.userId },
          { key: RegionSA, value: reserved.region },
          { key: CardStatusSA, value: 'pending' },
        ]);
        try {
          await partner.createAtPartner({ tenantId: state.tenantId, cardId: state.cardId });
        } catch (err) {
          log.error('partner card creation failed; canceling the pending card', { error: String(err) });
          await transition('canceled', null, { type: 'system', id: 'issuance' }, 'partner_create_failed');
          refuse('PARTNER_UNAVAILABLE', 'the partner could not create the card');
        }
        await transition('active', null, { type: 'system', id: 'issuance' }, 'issued');
        return { cardId: state.cardId, status: state.status };
      }),
    {
      validator: (req: IssueCardInput) => {
        if (req.cardId !== state.cardId || req.tenantId !== state.tenantId)
          refuse('VALIDATION_FAILED', 'card id mismatch');
      },
    },
  );

  const validateChange = (req: ChangeCardStatusInput): void => {
    if (state.status === 'new') refuse('CARD_NOT_ISSUED', 'the card has not been issued');
    const d = decideTransition(
      { status: state.status, frozenBy: state.frozenBy },
      req.transition as CardTransition,
      req.actor.type,
    );
    if (!d.ok) refuse(d.code, d.reason, { status: state.status, frozenBy: state.frozenBy });
  };

  setHandler(
    changeStatusUpdate,
    (req: ChangeCardStatusInput): Promise<ChangeCardStatusResult> =>
      mutex.run(async () => {
        validateChange(req); // again under the mutex: state may have moved since the validator ran
        const d = decideTransition(
          { status: state.status as CardStatus, frozenBy: state.frozenBy },
          req.transition,
          req.actor.type,
        );
        if (!d.ok) refuse(d.code, d.reason);
        await transition(d.to, d.frozenBy, req.actor, `${req.actor.type}_${req.transition}`, req.reason);
        if (d.to === 'active' || d.to === 'frozen' || d.to === 'canceled') {
          await partner.syncPartnerStatus({ tenantId: state.tenantId, cardId: state.cardId, status: d.to });
        }
        return { cardId: state.cardId, status: state.status as CardStatus, frozenBy: state.frozenBy };
      }),
    { validator: validateChange },
  );

  const maxEvents = input.maxHistoryEvents ?? 0;
  const shouldContinueAsNew = (): boolean =>
    workflowInfo().continueAsNewSuggested || (maxEvents > 0 && workflowInfo().historyLength >= maxEvents);

  // A refused issuance ends the workflow; an issued card lives on (late partner events still arrive).
  await condition(() => (state.status === 'canceled' && state.userId === null) || shouldContinueAsNew());
  await condition(allHandlersFinished);
  if (state.status === 'canceled' && state.userId === null) return;
  if (isTerminal(state.status as CardStatus))
    log.info('card is terminal; continuing as new to keep history bounded');
  await continueAsNew<typeof cardWorkflow>({ ...input, state: { ...state, runsSoFar: state.runsSoFar + 1 } });
}
