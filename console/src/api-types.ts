/**
 * The shapes the platform's HTTP API answers, as the console reads them (src/api/**). Once
 * `/openapi.json` exists they are to be generated from it, with the same names.
 */

// ---- shared shapes -------------------------------------------------------------------------------
export type Role = 'app' | 'operator' | 'approver' | 'platform';
export type CardStatus = 'pending' | 'active' | 'frozen' | 'canceled' | 'expired';
export type SpendingInterval = 'per_authorization' | 'daily' | 'weekly' | 'monthly' | 'all_time';
export type DeliveryOutcome =
  'applied' | 'duplicate' | 'ignored' | 'rejected' | 'unparseable' | 'parked' | 'failed';
export type ActionStatus =
  'pending_approval' | 'approved' | 'rejected' | 'applied' | 'failed' | 'reverted' | 'expired';
export type CardActionType =
  'freeze' | 'unfreeze' | 'cancel' | 'set_spending_limits' | 'allow_regions' | 'extend_expiry';
export type DiscrepancyCategory =
  | 'card_status_mismatch'
  | 'missing_internal_transaction'
  | 'missing_partner_transaction'
  | 'amount_mismatch'
  | 'duplicate_capture'
  | 'stale_hold'
  | 'orphan_partner_card'
  | 'currency_mismatch';
export type OperatorResolution =
  'partner_event_replayed' | 'manual_adjustment' | 'accepted' | 'false_positive';

export const CARD_STATUSES: readonly CardStatus[] = ['pending', 'active', 'frozen', 'canceled', 'expired'];
export const SPENDING_INTERVALS: readonly SpendingInterval[] = [
  'per_authorization',
  'daily',
  'weekly',
  'monthly',
  'all_time',
];
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = [
  'applied',
  'duplicate',
  'ignored',
  'rejected',
  'unparseable',
  'parked',
  'failed',
];
export const DISCREPANCY_CATEGORIES: readonly DiscrepancyCategory[] = [
  'card_status_mismatch',
  'missing_internal_transaction',
  'missing_partner_transaction',
  'amount_mismatch',
  'duplicate_capture',
  'stale_hold',
  'orphan_partner_card',
  'currency_mismatch',
];
export const OPERATOR_RESOLUTIONS: readonly OperatorResolution[] = [
  'partner_event_replayed',
  'manual_adjustment',
  'accepted',
  'false_positive',
];
export const PARTNERS = ['sandbox'] as const;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** An answer of the API that is not a success, as the API put it (or as close as the transport allows). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export interface Me {
  keyId: string;
  role: Role;
  name: string | null;
  tenant: { id: string; slug: string; name: string } | null;
  canApprove: boolean;
}

export interface SpendingLimit {
  amount: number;
  interval: SpendingInterval;
}

export interface CardControls {
  spendingLimits: SpendingLimit[];
  allowedRegions: string[];
  blockedMccs: string[];
  allowedMccs: string[];
  maxAuthorizations: number | null;
}

export interface Balances {
  held: number;
  captured: number;
  refunded: number;
  available: Partial<Record<SpendingInterval, number>>;
}

export interface CardSummary {
  id: string;
  status: CardStatus;
  frozenBy: string | null;
  last4: string | null;
  currency: string;
  region: string | null;
  partner: string;
  partnerCardId: string | null;
  userId: string;
  user: { id: string; externalId: string; name: string } | null;
  expiresAt: string;
  createdAt: string;
}

export interface AdminCard {
  id: string;
  userId: string;
  status: CardStatus;
  frozenBy: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  currency: string;
  controls: CardControls;
  expiresAt: string;
  partner: string;
  partnerCardId: string | null;
  metadata: Record<string, unknown>;
  balances: Balances;
  createdAt: string;
  workflowId: string;
  temporalUiUrl: string | null;
  region: string | null;
  issuedBy: { type: string; id: string };
  issueReason: string | null;
  policyVersion: number;
  statusChangedAt: string;
  pendingOverrides: Array<{ actionId: string; type: string; revertAtMs: number }>;
}

export interface AdminUser {
  id: string;
  externalId: string;
  name: string;
  region: string;
  status: 'active' | 'suspended';
  weeklyCardLimitLifted: boolean;
  weeklySpendLimit: number | null;
  cards: number;
  createdAt: string;
}

export interface Merchant {
  name?: string;
  mcc?: string;
  country?: string;
  region?: string;
  id?: string;
}

export interface Transaction {
  id: string;
  partnerTransactionId: string;
  status: 'pending' | 'closed' | 'declined' | 'reversed' | 'expired';
  currency: string;
  authorizedAmount: number;
  heldAmount: number;
  capturedAmount: number;
  refundedAmount: number;
  reversedAmount: number;
  merchant: Merchant | null;
  declineCode: string | null;
  flags: string[];
  authorizedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Payload {
  /** The stored body with card numbers masked. */
  text: string;
  /** Null when the body is not JSON, or nests too deep to be shown parsed (then `note` says so). */
  json: unknown;
  note?: string;
}

export interface OutcomeEntry {
  outcome: DeliveryOutcome;
  eventId?: string | null;
  eventType: string | null;
  cardId?: string | null;
  error: string | null;
  details: Record<string, unknown> | null;
  at: string;
}

export type TimelineItem =
  | {
      type: 'webhook';
      at: string;
      id: string;
      partner: string;
      outcome: DeliveryOutcome | null;
      outcomes: OutcomeEntry[];
      payload: Payload;
    }
  | {
      type: 'transaction_event';
      at: string;
      id: string;
      eventType: string;
      source: 'partner' | 'reconciliation' | 'system';
      amount: number;
      currency: string;
      partnerTransactionId: string | null;
      deliveryId: string | null;
      occurredAt: string;
      decision: { approved: boolean; approvedAmount: number; declineCode: string | null } | null;
    }
  | {
      type: 'state_transition';
      at: string;
      id: string;
      from: CardStatus | null;
      to: CardStatus;
      actor: { type: string; id: string };
      source: string;
      cause: string | null;
      reason: string | null;
    }
  | {
      type: 'admin_action';
      at: string;
      id: string;
      action: string;
      reason: string;
      requestedBy: string;
      params: Record<string, unknown>;
      decisions: Array<{ decision: string; by: string; at: string }>;
    }
  | {
      type: 'discrepancy';
      at: string;
      id: string;
      source: 'reconciliation';
      category: DiscrepancyCategory;
      status: 'open' | 'resolved';
      partnerTransactionId: string | null;
      internalValue: unknown;
      partnerValue: unknown;
      runId: string;
      lastSeenRunId: string;
      resolution: string | null;
      resolvedBy: string | null;
      resolvedAt: string | null;
    };

export interface Timeline extends Page<TimelineItem> {
  card: { id: string; status: CardStatus; workflowId: string };
  temporalUiUrl: string | null;
}
