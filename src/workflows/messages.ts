/**
 * Card workflow messages: the only module the API imports to talk to card workflows (never the
 * worker or activities). Each message takes one XxxInput object and returns XxxResult.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, ActorType, CardStatus } from '../domain/card-state';
import type { CardControlsInput } from '../domain/controls';
import type { CardActionType } from '../domain/overrides';
import type { CanonicalEvent } from '../domain/events';
import type { DeclineCode } from '../domain/authorization';
import type { RecordMoneyEventInput } from '../domain/card-records';

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
  /** Set by an approved operator override: issue beyond these program caps. */
  overrides?: {
    ignoreWeeklyCardLimit?: boolean;
    ignoreSpendLimitMax?: boolean;
    ignoreProgramRegions?: boolean;
  };
  /** The admin action that issued the card, if any. */
  actionId?: string;
  /** Hash of the HTTP request (method, path, body) the card id was derived for. */
  requestHash?: string;
}

export interface IssueCardResult {
  cardId: string;
  status: CardStatus;
}

export interface ChangeCardStatusInput {
  transition: 'freeze' | 'unfreeze' | 'cancel';
  actor: Actor;
  reason?: string;
  /** The caller's idempotency key: a retry with the same key gets the first result, across runs. */
  requestKey?: string;
}

export interface ChangeCardStatusResult {
  cardId: string;
  status: CardStatus;
  frozenBy: ActorType | null;
}

export interface ApplyOverrideInput {
  actionId: string;
  type: CardActionType;
  params: Record<string, unknown>;
  reason: string;
  /** When set, a workflow timer reverts the override at this time (ms since epoch). */
  expiresAtMs?: number;
  actor: Actor & { type: 'operator' };
}

export interface ApplyOverrideResult {
  actionId: string;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

export interface CardSnapshot {
  cardId: string;
  tenantId: string;
  status: CardStatus | 'new';
  frozenBy: ActorType | null;
  historyLength: number;
  runsSoFar: number;
  expiresAtMs: number | null;
  controls: unknown;
  pendingOverrides: Array<{ actionId: string; type: string; revertAtMs: number }>;
}

export const issueUpdate = defineUpdate<IssueCardResult, [IssueCardInput]>('issue');
export const changeStatusUpdate = defineUpdate<ChangeCardStatusResult, [ChangeCardStatusInput]>(
  'changeStatus',
);
/** A partner event handed to the card workflow (webhook via the outbox relay, replay or reconciliation). */
export interface PartnerEventInput {
  /** The stored delivery it came from (null for reconciliation-sourced events). */
  deliveryId: string | null;
  event: CanonicalEvent;
  source: 'partner' | 'reconciliation' | 'system';
  /** An operator's replay of a stored delivery: its outcome is recorded even when nothing changes. */
  replay?: boolean;
}

export interface AuthorizeInput {
  deliveryId: string | null;
  /** The program's policy version the API saw: the card reuses its copy of the rules while it matches. */
  policyVersion?: number;
  event: Extract<CanonicalEvent, { kind: 'authorization.request' | 'authorization.increment' }>;
  /**
   * When the partner stops waiting (epoch ms, the API's clock): a request the card reaches later is
   * refused unseen (AUTHORIZATION_TOO_LATE), since the program's stand-in is the answer by then and
   * reaches the card as its own event. Under overload the card then does each late request's work
   * once (the stand-in), not twice (a decision nobody hears, then its reversal).
   */
  deadlineAtMs?: number;
  /**
   * The API stored this event id for the first time (no earlier delivery of it exists, so none
   * can have been decided): the card may decide from its own books alone and leave the database
   * write to the API and to itself a moment later. A redelivery (false or absent) is checked
   * against the database before it is decided.
   */
  fresh?: boolean;
  /**
   * The caller answers the partner with the approved amount (the webhook route, through the
   * partner's adapter): a request the partner lets us approve in part may be approved for less
   * than asked. Absent (a replayed event nobody hears the answer to): all or nothing.
   */
  answersPartial?: boolean;
  /** An operator's replay of a stored request: the outcomes the card writes are marked so. */
  replay?: boolean;
}

export interface AuthorizeResult {
  approved: boolean;
  approvedAmount: number;
  declineCode: DeclineCode | null;
  /** True when this answers a request already decided (a redelivery). */
  duplicate: boolean;
  /**
   * The delivery whose outcome the card recorded with this answer (or handed to the API in
   * `projection`). A delivery that gets another's answer (Temporal answers a repeated update id
   * itself) has its outcome written by the API. Absent from answers of older code.
   */
  recordedFor?: string | null;
  /**
   * A decision the card made without waiting for the database: what the API writes as it answers
   * (the event, the transaction's snapshot and the delivery's outcome). The card writes it too, a
   * moment later, in case the API does not live to.
   */
  projection?: RecordMoneyEventInput;
}

export const partnerEventSignal = defineSignal<[PartnerEventInput]>('partnerEvent');
export const authorizeUpdate = defineUpdate<AuthorizeResult, [AuthorizeInput]>('authorize');
export const applyOverrideUpdate = defineUpdate<ApplyOverrideResult, [ApplyOverrideInput]>('applyOverride');
export const getCardQuery = defineQuery<CardSnapshot>('getCard');
