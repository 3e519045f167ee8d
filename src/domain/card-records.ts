/**
 * What the card workflow records through its activities: the inputs and results of each write. Pure
 * types, imported by the workflow, the activities, the API and the table modules alike.
 */
import type { ActorType, CardStatus } from './card-state';
import type { CardControls } from './controls';
import type { CanonicalEvent } from './events';
import type { LedgerEntry, TransactionStatus } from './ledger';
import type { IssuanceRefusal } from './policy';

export interface ReserveIssuanceInput {
  tenantId: string;
  cardId: string;
  userId: string;
  currency: string;
  controls?: unknown;
  expiresAt?: string;
  metadata?: Record<string, unknown>;
  issuedBy: { type: 'app' | 'operator'; id: string };
  reason?: string;
  overrides?: {
    ignoreWeeklyCardLimit?: boolean;
    ignoreSpendLimitMax?: boolean;
    ignoreProgramRegions?: boolean;
  };
  /** Workflow time of the request (ms), so a retried activity decides against the same clock. */
  requestedAtMs: number;
}

export type ReserveIssuanceResult =
  | {
      ok: true;
      userId: string;
      region: string;
      currency: string;
      expiresAtMs: number;
      partner: string;
      controls: CardControls;
    }
  | { ok: false; refusal: IssuanceRefusal };

export interface CreateAtPartnerInput {
  tenantId: string;
  cardId: string;
}

export interface CreateAtPartnerResult {
  partnerCardId: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export interface RecordTransitionInput {
  tenantId: string;
  cardId: string;
  from: CardStatus | null;
  to: CardStatus;
  frozenBy: ActorType | null;
  actor: { type: ActorType; id: string };
  cause: string;
  reason?: string;
  /** Chosen by the workflow; the same key writes the transition once. */
  eventKey: string;
  occurredAtMs: number;
}

export interface SyncPartnerStatusInput {
  tenantId: string;
  cardId: string;
  status: 'active' | 'frozen' | 'canceled';
  /** Unique per status change of the card (its transition's key): the partner's idempotency key. */
  changeKey?: string;
  /** Why (a cancellation's `lost` / `stolen`, where the partner keeps it). */
  reason?: string;
}

export interface UpdateCardControlsInput {
  tenantId: string;
  cardId: string;
  controls: CardControls;
}

export interface UpdateCardExpiryInput {
  tenantId: string;
  cardId: string;
  expiresAtMs: number;
}

export interface RecordActionDecisionInput {
  tenantId: string;
  actionId: string;
  decision: 'applied' | 'failed' | 'reverted' | 'expired';
  decidedBy: string;
  note?: string;
  after?: Record<string, unknown>;
}

/** An authorization decision as recorded with its event (and the policy version that made it). */
export interface MoneyDecision {
  approved: boolean;
  approvedAmount: number;
  declineCode: string | null;
  reason?: string;
  policyVersion?: number;
}

export interface RecordMoneyEventInput {
  tenantId: string;
  cardId: string;
  deliveryId: string | null;
  source: 'partner' | 'reconciliation' | 'system';
  event: CanonicalEvent;
  /** The transaction's contribution to its user's weekly spend after the event (see userSpendOf). */
  userSpend?: { userId: string; weekStartMs: number; contribution: number };
  /** The ledger entry after the event, with its derived values. */
  entry: LedgerEntry & { held: number; status: TransactionStatus; allFlags: string[] };
  decision?: MoneyDecision;
  /** Unique per write the workflow makes: a retried attempt of the same write recognises its own row. */
  commitKey: string;
  /** The card's sequence number of this write (commitKey is `m<seq>`): newer snapshots win. */
  seq?: number;
  /** From an operator's replay of the delivery: its outcome is that later pass's, marked so. */
  replay?: boolean;
}

export interface RecordMoneyEventResult {
  /** True when this call's write is the one on record (first attempt or a retry of it). */
  applied: boolean;
  /** The decision stored with the event when another delivery wrote it first. */
  priorDecision: { approved: boolean; approvedAmount: number; declineCode: string | null } | null;
}

export interface RecordOutcomeInput {
  tenantId: string;
  deliveryId: string;
  outcome: 'applied' | 'duplicate' | 'ignored' | 'failed';
  eventId: string;
  eventType: string;
  cardId: string;
  error?: string;
  details?: Record<string, unknown>;
}
