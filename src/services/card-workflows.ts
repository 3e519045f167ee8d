import type { Client } from '@temporalio/client';
import { cardWorkflowId } from '../domain/ids';
import type { cardWorkflow } from '../workflows/card-workflow';
import { partnerEventSignal, type PartnerEventInput } from '../workflows/messages';

export interface CardWorkflowConfig {
  taskQueue: string;
  /** Continue as new after this many history events (tests force it low). */
  maxHistoryEvents?: number;
}

/** How every caller starts (or reaches) a card's workflow. */
export function cardStartOptions(cfg: CardWorkflowConfig, tenantId: string, cardId: string) {
  return {
    workflowId: cardWorkflowId(tenantId, cardId),
    taskQueue: cfg.taskQueue,
    args: [{ tenantId, cardId, maxHistoryEvents: cfg.maxHistoryEvents }] as Parameters<typeof cardWorkflow>,
  };
}

/** Hands a partner event to the card's workflow (signal-with-start: it runs whether or not it was running). */
export async function signalCard(
  temporal: Client,
  cfg: CardWorkflowConfig,
  tenantId: string,
  cardId: string,
  input: PartnerEventInput,
): Promise<void> {
  await temporal.workflow.signalWithStart<typeof cardWorkflow, [PartnerEventInput]>('cardWorkflow', {
    ...cardStartOptions(cfg, tenantId, cardId),
    signal: partnerEventSignal,
    signalArgs: [input],
  });
}
