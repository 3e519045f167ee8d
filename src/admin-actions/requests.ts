/**
 * The one writer of `admin_actions` (append-only): every operator action requested (overrides,
 * admin issuance, a discrepancy's resolution) and the platform's own (reconciliation healing or
 * closing a discrepancy), with its reason and the subject's state before. Decisions about an
 * action are `decisions.ts`'s.
 */
import type { Knex } from 'knex';

export interface ActionRequest {
  id: string;
  tenantId: string;
  subjectType: 'card' | 'user' | 'discrepancy' | 'policy' | 'api_key';
  subjectId: string;
  type: string;
  params: Record<string, unknown>;
  reason: string;
  requestedBy: string;
  requiresApproval?: boolean;
  expiresAt?: Date | null;
  before?: Record<string, unknown> | null;
}

/** Records an action request, once per id (a retried write, e.g. a healing activity's, writes it once). */
export async function recordAction(db: Knex | Knex.Transaction, a: ActionRequest): Promise<void> {
  await db('admin_actions')
    .insert({
      id: a.id,
      tenantId: a.tenantId,
      subjectType: a.subjectType,
      subjectId: a.subjectId,
      type: a.type,
      params: JSON.stringify(a.params),
      reason: a.reason,
      requestedBy: a.requestedBy,
      ...(a.requiresApproval === undefined ? {} : { requiresApproval: a.requiresApproval }),
      ...(a.expiresAt === undefined ? {} : { expiresAt: a.expiresAt }),
      ...(a.before === undefined ? {} : { before: a.before === null ? null : JSON.stringify(a.before) }),
    })
    .onConflict('id')
    .ignore();
}

/**
 * SQL that records the actions a SELECT yields — columns, in order: id, tenant_id, subject_type,
 * subject_id, type, params (jsonb), reason, requested_by — returning their ids, for a statement
 * that records many at once (reconciliation closing what it no longer finds).
 */
export function insertActionsSql(rows: string): string {
  return `INSERT INTO admin_actions (id, tenant_id, subject_type, subject_id, type, params, reason, requested_by)
    SELECT r.id, r.tenant_id, r.subject_type, r.subject_id, r.type, r.params, r.reason, r.requested_by
      FROM (${rows}) AS r(id, tenant_id, subject_type, subject_id, type, params, reason, requested_by)
    ON CONFLICT (id) DO NOTHING
    RETURNING id`;
}
