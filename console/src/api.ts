/**
 * The console's whole conversation with the platform's HTTP API: every call the pages make is a
 * function here, and every shape they read is a type in api-types.ts / api-admin-types.ts
 * (re-exported here, so pages import from one place).
 *
 * The operator's key lives in this module's memory and in sessionStorage (so a reload in the same
 * tab stays signed in); it is sent only in the Authorization header, never in a URL, and nothing
 * here logs it.
 */

export * from './api-types';
export * from './api-admin-types';
import { ApiFailure } from './api-types';
import type {
  CardStatus,
  DeliveryOutcome,
  ActionStatus,
  DiscrepancyCategory,
  OperatorResolution,
  Page,
  ErrorBody,
  Me,
  SpendingLimit,
  CardSummary,
  AdminCard,
  AdminUser,
  Transaction,
  Timeline,
} from './api-types';
import type {
  AdminAction,
  DeliverySummary,
  DeliveryDetail,
  ReplayResult,
  ReconciliationRun,
  Discrepancy,
  ProgramPolicy,
  PolicyInForce,
  PolicyVersion,
  PolicyPreview,
  AuthorizationStats,
  Overview,
} from './api-admin-types';

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
/** 200: the new version in force; 202: a loosening change, pending a second principal's approval. */
export const patchPolicy = (patch: Partial<ProgramPolicy> & { reason?: string }) =>
  call<PolicyInForce | (AdminAction & { status: 'pending_approval'; approvalReasons: string[] })>(
    'PATCH',
    '/admin/policy',
    { body: patch, idempotent: true },
  );

export const getAuthorizationStats = (q: { cardId?: string; hours?: number }) =>
  call<AuthorizationStats>('GET', '/admin/stats/authorizations', { query: q });
export const getOverview = () => call<Overview>('GET', '/admin/stats/overview');
