import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { cardWorkflowId } from '../domain/ids';
import type { cardWorkflow } from '../workflows/card-workflow';
import { partnerEventSignal, type PartnerEventInput } from '../workflows/messages';

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
