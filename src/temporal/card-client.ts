/**
 * The card workflow's client side: how every caller (the API, the outbox relay, reconciliation)
 * starts, reaches, signals and issues a card's workflow.
 */
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { cardWorkflowId } from '../domain/ids';
import type { cardWorkflow } from '../workflows/card/card-workflow';
import {
  issueUpdate,
  partnerEventSignal,
  type IssueCardInput,
  type PartnerEventInput,
} from '../workflows/messages';
import { CardStatusSA, TenantIdSA, UserIdSA } from '../workflows/search-attributes';

export interface CardWorkflowConfig {
  taskQueue: string;
  /** Continue as new after this many history events (tests force it low). */
  maxHistoryEvents?: number;
  /** Hold expiry in milliseconds instead of the program's days (tests). */
  holdExpiryMs?: number;
  /** How soon the card makes its own write of a decision the API wrote as it answered (tests). */
  projectionFlushMs?: number;
}

/** How every caller starts (or reaches) a card's workflow. */
export function cardStartOptions(cfg: CardWorkflowConfig, tenantId: string, cardId: string) {
  return {
    workflowId: cardWorkflowId(tenantId, cardId),
    taskQueue: cfg.taskQueue,
    args: [
      {
        tenantId,
        cardId,
        maxHistoryEvents: cfg.maxHistoryEvents,
        holdExpiryMs: cfg.holdExpiryMs,
        projectionFlushMs: cfg.projectionFlushMs,
      },
    ] as Parameters<typeof cardWorkflow>,
  };
}

/** Hands a partner event to the card's workflow, starting it if it is not running. */
export async function signalCard(
  temporal: Client,
  cfg: CardWorkflowConfig,
  tenantId: string,
  cardId: string,
  input: PartnerEventInput,
): Promise<void> {
  // A card's workflow runs from issuance on, so a plain signal is the common case (lighter than
  // signal-with-start, whose request carries the start options); if it is not running, start it.
  try {
    await temporal.workflow.getHandle(cardWorkflowId(tenantId, cardId)).signal(partnerEventSignal, input);
    return;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  await temporal.workflow.signalWithStart<typeof cardWorkflow, [PartnerEventInput]>('cardWorkflow', {
    ...cardStartOptions(cfg, tenantId, cardId),
    signal: partnerEventSignal,
    signalArgs: [input],
  });
}

/**
 * Issues a card through its workflow, starting it (update-with-start, `USE_EXISTING`): a retried
 * or concurrent request for the same card id reaches the same workflow and the same `issue`
 * update, and gets the same outcome.
 */
export async function issueThroughWorkflow(
  temporal: Client,
  cfg: CardWorkflowConfig,
  input: IssueCardInput,
): Promise<void> {
  await temporal.workflow.executeUpdateWithStart(issueUpdate, {
    args: [input],
    updateId: 'issue',
    startWorkflowOperation: new WithStartWorkflowOperation<typeof cardWorkflow>('cardWorkflow', {
      ...cardStartOptions(cfg, input.tenantId, input.cardId),
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: TenantIdSA, value: input.tenantId },
        { key: UserIdSA, value: input.userId },
        { key: CardStatusSA, value: 'pending' },
      ],
    }),
  });
}
