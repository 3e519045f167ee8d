/**
 * The one writer of `admin_action_decisions` (append-only): every approval, rejection,
 * application, failure, reversal or expiry of an admin action — by the API, the card workflow's
 * and the user overrides' activities, and reconciliation. At most one row per (action, decision):
 * a retried write (an activity's retry, a repeated request) writes it once.
 */
import type { Knex } from 'knex';

export type ActionDecision = 'approved' | 'rejected' | 'applied' | 'failed' | 'reverted' | 'expired';

export interface DecisionRow {
  tenantId: string;
  actionId: string;
  decision: ActionDecision;
  /** An API key id, or `system…` for the platform's own decisions. */
  decidedBy: string;
  note?: string | null;
  /** The subject's state after the action, where it changed one. */
  after?: Record<string, unknown> | null;
}

/** Records a decision on an action, once. Says whether this call wrote it. */
export async function recordDecision(db: Knex | Knex.Transaction, row: DecisionRow): Promise<boolean> {
  const inserted = await db('admin_action_decisions')
    .insert({
      tenantId: row.tenantId,
      actionId: row.actionId,
      decision: row.decision,
      decidedBy: row.decidedBy,
      note: row.note ?? null,
      after: row.after === undefined || row.after === null ? null : JSON.stringify(row.after),
    })
    .onConflict(['tenantId', 'actionId', 'decision'])
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/**
 * SQL that records the decisions a SELECT yields — columns, in order: tenant_id, action_id,
 * decision, decided_by, note — for a statement that decides many actions at once (reconciliation
 * closing what it no longer finds), under the same once-per-(action, decision) rule.
 */
export function insertDecisionsSql(rows: string): string {
  return `INSERT INTO admin_action_decisions (tenant_id, action_id, decision, decided_by, note)
    SELECT r.tenant_id, r.action_id, r.decision, r.decided_by, r.note
      FROM (${rows}) AS r(tenant_id, action_id, decision, decided_by, note)
    ON CONFLICT (tenant_id, action_id, decision) DO NOTHING`;
}
