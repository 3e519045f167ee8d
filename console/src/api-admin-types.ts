/** The shapes of the operator's queues and settings: actions, deliveries, reconciliation, policy, charts. */
import type {
  CardStatus,
  DeliveryOutcome,
  ActionStatus,
  DiscrepancyCategory,
  SpendingLimit,
  Payload,
  OutcomeEntry,
} from './api-types';

export interface AdminAction {
  id: string;
  type: string;
  subject: { type: 'card' | 'user' | 'discrepancy'; id: string };
  status: ActionStatus;
  params: Record<string, unknown>;
  reason: string;
  expiresAt: string | null;
  requestedBy: string;
  requiresApproval: boolean;
  approvedBy: string | null;
  rejectedBy: string | null;
  decisionNote: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  decisions: Array<{ decision: string; by: string; note: string | null; at: string }>;
  createdAt: string;
  /** Present on the answer to a request that waits for an approver. */
  approvalReasons?: string[];
}

export interface DeliverySummary {
  id: string;
  partner: string;
  subscriptionId: string;
  receivedAt: string;
  outcome: DeliveryOutcome | null;
  eventId: string | null;
  eventType: string | null;
  cardId: string | null;
  error: string | null;
}

export interface DeliveryDetail {
  id: string;
  partner: string;
  subscriptionId: string;
  receivedAt: string;
  headers: Record<string, string>;
  payload: Payload;
  /** What was received: over the body limit, `payload` is only its first `storedBytes`. */
  body: { truncated: boolean; storedBytes: number; receivedBytes: number; sha256?: string };
  outcome: DeliveryOutcome | null;
  outcomes: OutcomeEntry[];
  handoff: { status: string; attempts: number; lastError: string | null; cardId: string | null } | null;
}

export interface ReplayResult {
  id: string;
  replayed: true;
  status: number;
  result: Record<string, unknown>;
}

export interface ReconciliationProgress {
  runId: string | null;
  phase:
    'starting' | 'staging_cards' | 'staging_transactions' | 'comparing' | 'healing' | 'completed' | 'failed';
  cardsStaged: number;
  recordsStaged: number;
  pagesFetched: number;
  slices: { total: number; done: number };
  counts: Partial<Record<DiscrepancyCategory, number>>;
  compared: { transactions: number; cards: number } | null;
  opened: number;
  stillOpen: number;
  closed: number;
  acknowledged: number;
  healed: number;
  error: string | null;
}

export interface ReconciliationRun {
  id: string;
  partner: string;
  trigger: 'schedule' | 'manual';
  status: 'running' | 'completed' | 'failed';
  window: { from: string; to: string };
  progress: ReconciliationProgress | null;
  counts: Partial<Record<DiscrepancyCategory, number>>;
  total: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  workflowId: string;
  temporalUiUrl: string | null;
}

export interface Discrepancy {
  id: string;
  partner: string;
  category: DiscrepancyCategory;
  fingerprint: string;
  status: 'open' | 'resolved';
  cardId: string | null;
  transactionId: string | null;
  partnerCardId: string | null;
  partnerTransactionId: string | null;
  internalValue: unknown;
  partnerValue: unknown;
  evidence: unknown;
  firstRunId: string;
  lastSeenRunId: string;
  resolution: string | null;
  resolutionNote: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ProgramPolicy {
  timeZone: string;
  weekStartsOn: string;
  regions: string[];
  defaultCurrency: string;
  maxCardSpendLimit: number;
  defaultSpendingLimits: SpendingLimit[];
  weeklyCardLimitPerUser: number | null;
  weeklySpendLimitPerUser: number | null;
  blockedMccs: string[];
  overrideApprovalThreshold: number;
  authorizationTimeoutMs: number;
  standInDecision: 'decline' | 'approve';
  holdExpiryDays: number;
  [field: string]: unknown;
}

export interface PolicyChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface PolicyInForce {
  version: number;
  policy: ProgramPolicy;
  createdBy: string;
  reason: string | null;
  createdAt: string;
}

export interface PolicyVersion extends PolicyInForce {
  inForce: boolean;
  changes: PolicyChange[];
}

export interface PolicyPreview {
  version: number;
  changes: PolicyChange[];
  needsApprover: boolean;
  /** The fields that loosen the program's controls, and why (what an approver reads). */
  raised: string[];
  approvalReasons: string[];
  allowed: boolean;
  threshold: number;
}

export interface AuthorizationStats {
  cardId: string | null;
  hours: number;
  from: string;
  to: string;
  buckets: Array<{ hour: string; approved: number; declined: number }>;
  totals: { approved: number; declined: number };
  declineReasons: Array<{ code: string; count: number }>;
}

export interface Overview {
  cardsByStatus: Partial<Record<CardStatus, number>>;
  pendingApprovals: number;
  openDiscrepancies: number;
  deliveriesLastDay: Partial<Record<DeliveryOutcome | 'pending', number>>;
}
