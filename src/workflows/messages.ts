/**
 * Card workflow messages: the only module the API imports to talk to card workflows (never the
 * worker or activities). Each message takes one XxxInput object and returns XxxResult.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor, ActorType, CardStatus } from '../domain/card-state';
import type { CardControlsInput } from '../domain/controls';

export const CARD_TASK_QUEUE = 'vcn-cards';
export { cardWorkflowId } from '../domain/ids';

export interface IssueCardInput {
  tenantId: string;
  cardId: string;
  userId: string;
  currency: string;
  controls?: CardControlsInput;
  /** ISO 8601; defaults to one year after issuance. */
  expiresAt?: string;
  metadata?: Record<string, unknown>;
  issuedBy: Actor & { type: 'app' | 'operator' };
  reason?: string;
}

export interface IssueCardResult {
  cardId: string;
  status: CardStatus;
}

export interface ChangeCardStatusInput {
  transition: 'freeze' | 'unfreeze' | 'cancel';
  actor: Actor;
  reason?: string;
}

export interface ChangeCardStatusResult {
  cardId: string;
  status: CardStatus;
  frozenBy: ActorType | null;
}

export interface CardSnapshot {
  cardId: string;
  tenantId: string;
  status: CardStatus | 'new';
  frozenBy: ActorType | null;
  historyLength: number;
  runsSoFar: number;
}

export const issueUpdate = defineUpdate<IssueCardResult, [IssueCardInput]>('issue');
export const changeStatusUpdate = defineUpdate<ChangeCardStatusResult, [ChangeCardStatusInput]>(
  'changeStatus',
);
export const getCardQuery = defineQuery<CardSnapshot>('getCard');
