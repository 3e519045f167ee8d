import type { AdminAction, AdminActionDecision, TenantPolicy } from '../../db/models';
import { deriveStatus } from '../../admin-actions/actions';
import { withDefaults } from '../../policies/current';

/** An admin action with its decisions, as operators see it. */
export function presentAction(
  a: AdminAction,
  decisions: AdminActionDecision[],
  extra: Record<string, unknown> = {},
) {
  const by = (d: string) => decisions.find((x) => x.decision === d);
  const approval = by('approved') ?? by('rejected');
  const applied = by('applied');
  return {
    id: a.id,
    type: a.type,
    subject: { type: a.subjectType, id: a.subjectId },
    status: deriveStatus(a, decisions),
    params: a.params,
    reason: a.reason,
    expiresAt: a.expiresAt ? new Date(a.expiresAt).toISOString() : null,
    requestedBy: a.requestedBy,
    requiresApproval: a.requiresApproval,
    approvedBy: by('approved')?.decidedBy ?? null,
    rejectedBy: by('rejected')?.decidedBy ?? null,
    decisionNote: approval?.note ?? null,
    before: a.before,
    after: applied?.after ?? null,
    decisions: decisions.map((d) => ({
      decision: d.decision,
      by: d.decidedBy,
      note: d.note,
      at: new Date(d.createdAt).toISOString(),
    })),
    createdAt: new Date(a.createdAt).toISOString(),
    ...extra,
  };
}

/** A policy version (with the defaults a version predating a field leaves to them). */
export const presentPolicy = (p: TenantPolicy) => ({
  version: p.version,
  policy: withDefaults(p.policy),
  createdBy: p.createdBy,
  reason: p.reason,
  createdAt: new Date(p.createdAt).toISOString(),
});
