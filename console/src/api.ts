/**
 * The console's whole conversation with the platform's HTTP API: every call the pages make is a
 * function here, and every shape they read is a type here. The types follow what the API answers
 * (src/api/**); once `/openapi.json` exists they are to be generated from it, with the same names.
 *
 * The operator's key lives in this module's memory and in sessionStorage (so a reload in the same
 * tab stays signed in); it is sent only in the Authorization header, never in a URL, and nothing
 * here logs it.
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
  json: unknown;
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
  raised: string[];
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

// ---- the key -------------------------------------------------------------------------------------
const KEY_SLOT = 'vcn-console-key';
let apiKey: string | null = readStoredKey();

function readStoredKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_SLOT);
  } catch {
    return null;
  }
}

export function hasKey(): boolean {
  return apiKey !== null;
}

export function setKey(key: string | null): void {
  apiKey = key;
  try {
    if (key === null) sessionStorage.removeItem(KEY_SLOT);
    else sessionStorage.setItem(KEY_SLOT, key);
  } catch {
    // storage refused (private mode): the key stays in memory for this page only
  }
}

// ---- transport -----------------------------------------------------------------------------------
type Query = Record<string, string | number | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

const seg = (id: string): string => encodeURIComponent(id);

function newIdempotencyKey(): string {
  return `console-${crypto.randomUUID()}`;
}

async function call<T>(
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  opts: { query?: Query; body?: unknown; key?: string; idempotent?: boolean } = {},
): Promise<T> {
  const key = opts.key ?? apiKey;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  // One key per user action: a retried click is the same request to the API.
  if (opts.idempotent) headers['idempotency-key'] = newIdempotencyKey();
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiFailure(0, 'NETWORK_ERROR', `the API could not be reached (${(err as Error).message})`);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: reported below when the status is an error
  }
  if (!res.ok) {
    const e = (parsed as Partial<ErrorBody> | undefined)?.error;
    if (e && typeof e.code === 'string')
      throw new ApiFailure(res.status, e.code, String(e.message ?? ''), e.details);
    throw new ApiFailure(res.status, `HTTP_${res.status}`, text.slice(0, 200) || res.statusText);
  }
  return parsed as T;
}

// ---- endpoints -----------------------------------------------------------------------------------
/** Who a key is; with `key`, asks for a key not yet kept (sign-in). */
export const getMe = (key?: string) => call<Me>('GET', '/admin/me', { key });

export const searchCards = (q: { q?: string; status?: CardStatus | ''; region?: string; cursor?: string }) =>
  call<Page<CardSummary>>('GET', '/admin/cards/search', { query: { ...q, limit: 50 } });

export const getCard = (id: string) => call<AdminCard>('GET', `/admin/cards/${seg(id)}`);
export const getUser = (id: string) => call<AdminUser>('GET', `/admin/users/${seg(id)}`);

export const getCardTransactions = (id: string, cursor?: string) =>
  call<Page<Transaction>>('GET', `/admin/cards/${seg(id)}/transactions`, { query: { cursor, limit: 100 } });

export const getTimeline = (id: string, cursor?: string) =>
  call<Timeline>('GET', `/admin/cards/${seg(id)}/timeline`, { query: { cursor, limit: 200 } });

export type CardActionBody =
  | { type: 'freeze' | 'unfreeze' | 'cancel'; reason: string }
  | { type: 'set_spending_limits'; params: { spendingLimits: SpendingLimit[] }; reason: string };

export const actOnCard = (id: string, body: CardActionBody) =>
  call<AdminAction>('POST', `/admin/cards/${seg(id)}/actions`, {
    body: { params: {}, ...body },
    idempotent: true,
  });

export const listActions = (q: { status?: ActionStatus; cursor?: string }) =>
  call<Page<AdminAction>>('GET', '/admin/actions', { query: { ...q, limit: 100 } });

export interface ApprovalItem extends AdminAction {
  approvalReasons: string[];
  /** The card an action is on: its last four digits, currency and status. */
  card: { id: string; last4: string | null; currency: string; status: CardStatus } | null;
}

/** The approval queue with why each action needs an approver. */
export const listApprovals = (q: { status?: 'pending' | 'decided' | 'all'; cursor?: string }) =>
  call<Page<ApprovalItem>>('GET', '/admin/approvals', {
    query: { ...q, limit: 100 },
  });

export const approveAction = (id: string, note: string) =>
  call<AdminAction>('POST', `/admin/actions/${seg(id)}/approve`, {
    body: note ? { note } : {},
    idempotent: true,
  });
export const rejectAction = (id: string, note: string) =>
  call<AdminAction>('POST', `/admin/actions/${seg(id)}/reject`, {
    body: note ? { note } : {},
    idempotent: true,
  });

export const listDeliveries = (q: {
  partner?: string;
  outcome?: DeliveryOutcome | '';
  cardId?: string;
  cursor?: string;
}) => call<Page<DeliverySummary>>('GET', '/admin/webhook-events', { query: { ...q, limit: 25 } });
export const getDelivery = (id: string) => call<DeliveryDetail>('GET', `/admin/webhook-events/${seg(id)}`);
export const replayDelivery = (id: string) =>
  call<ReplayResult>('POST', `/admin/webhook-events/${seg(id)}/replay`, { body: {}, idempotent: true });

export const listRuns = (cursor?: string) =>
  call<Page<ReconciliationRun>>('GET', '/admin/reconciliations', { query: { cursor, limit: 20 } });
export const getRun = (id: string) =>
  call<ReconciliationRun & { discrepancies: Discrepancy[] }>('GET', `/admin/reconciliations/${seg(id)}`);
export const startRun = (partner: string) =>
  call<{ id: string; status: 'running' }>('POST', '/admin/reconciliations', {
    body: { partner },
    idempotent: true,
  });
export const listDiscrepancies = (q: {
  status?: 'open' | 'resolved' | '';
  category?: DiscrepancyCategory | '';
  cardId?: string;
  cursor?: string;
}) => call<Page<Discrepancy>>('GET', '/admin/discrepancies', { query: { ...q, limit: 100 } });
export const resolveDiscrepancy = (id: string, resolution: OperatorResolution, note: string) =>
  call<Discrepancy & { actionId: string }>('POST', `/admin/discrepancies/${seg(id)}/resolve`, {
    body: { resolution, note },
    idempotent: true,
  });

export const getPolicy = () => call<PolicyInForce>('GET', '/admin/policy');
export const listPolicyVersions = (cursor?: string) =>
  call<Page<PolicyVersion> & { inForce: number }>('GET', '/admin/policy/versions', { query: { cursor } });
export const previewPolicy = (patch: Partial<ProgramPolicy>) =>
  call<PolicyPreview>('POST', '/admin/policy/preview', { body: patch });
export const patchPolicy = (patch: Partial<ProgramPolicy> & { reason?: string }) =>
  call<PolicyInForce>('PATCH', '/admin/policy', { body: patch, idempotent: true });

export const getAuthorizationStats = (q: { cardId?: string; hours?: number }) =>
  call<AuthorizationStats>('GET', '/admin/stats/authorizations', { query: q });
export const getOverview = () => call<Overview>('GET', '/admin/stats/overview');
