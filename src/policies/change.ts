import type { Knex } from 'knex';
import type { ApiKeyRole } from '../domain/auth';
import { DomainError } from '../domain/errors';
import type { ProgramPolicy } from '../domain/policy';
import { hasPartner, type PartnerRegistry } from '../partners/adapter';
import { classifyPolicyChange, loosenings, type FieldChange } from '../domain/policy-change';
import { recordAction } from '../admin-actions/requests';
import { newId } from '../lib/ids';
import { ensureReconciliationSchedule } from '../reconciliation/runs';
import type { TenantDeps } from '../tenants/create';
import { currentPolicy, type Policy } from './current';
import { writePolicyVersion } from './versions';

/** New cards can only be issued at a partner this platform has an adapter for. */
export function assertRegisteredPartner(partners: PartnerRegistry, partner: string): void {
  if (!hasPartner(partners, partner))
    throw new DomainError('VALIDATION_FAILED', `no partner named ${partner}`, {
      fields: [{ path: 'partner', message: 'not a registered partner' }],
    });
}

export type PolicyChangeResult =
  | { status: 'applied'; version: number; changes: FieldChange[] }
  | { status: 'pending_approval'; actionId: string; approvalReasons: string[]; changes: FieldChange[] };

/**
 * A policy change. One that only tightens (or is neutral) is a new version at once. One that
 * loosens any control (`classifyPolicyChange`) becomes a pending `change_policy` admin action,
 * whatever the key's role: a second principal approves it (POST /admin/actions/:id/approve), and
 * only then is it written. One person alone can no longer switch off every card's controls.
 */
export async function changePolicy(
  deps: {
    knex: Knex;
    partners: PartnerRegistry;
    /** Where a new partner's reconciliation schedule is put (absent: `npm run reconcile:schedule` does it). */
    reconciliation?: TenantDeps['reconciliation'];
  },
  input: {
    tenantId: string;
    patch: Partial<ProgramPolicy>;
    reason?: string;
    by: { keyId: string; role: ApiKeyRole };
  },
): Promise<PolicyChangeResult> {
  const { tenantId, patch } = input;
  if (Object.keys(patch).length === 0) throw new DomainError('VALIDATION_FAILED', 'nothing to change');
  if (patch.partner !== undefined) assertRegisteredPartner(deps.partners, patch.partner);
  const { version, policy } = await currentPolicy(deps.knex, tenantId);
  const changes = classifyPolicyChange(policy, patch);
  const loose = loosenings(changes);
  if (loose.length === 0) {
    const written = await writePolicyChange(deps.knex, {
      tenantId,
      patch,
      createdBy: input.by.keyId,
      reason: input.reason ?? null,
    });
    if (patch.partner !== undefined) await ensurePartnerSchedule(deps, tenantId, patch.partner);
    return { status: 'applied', version: written.version, changes };
  }
  if (!input.reason?.trim())
    throw new DomainError(
      'VALIDATION_FAILED',
      "a change that loosens the program's controls needs a reason",
      {
        fields: [{ path: 'reason', message: 'required: the change waits for an approver' }],
      },
    );
  const actionId = newId('adminAction');
  const approvalReasons = loose.map((c) => c.reason);
  await recordAction(deps.knex, {
    id: actionId,
    tenantId,
    subjectType: 'policy',
    subjectId: tenantId,
    type: 'change_policy',
    params: { patch, baseVersion: version, loosening: approvalReasons },
    reason: input.reason,
    requestedBy: input.by.keyId,
    requiresApproval: true,
    before: Object.fromEntries(Object.keys(patch).map((k) => [k, policy[k as keyof Policy] ?? null])),
  });
  return { status: 'pending_approval', actionId, approvalReasons, changes };
}

/**
 * Writes a policy version (the old ones stay, so any decision can be explained by the version in
 * force), under the tenant's row lock so that two changes never take the same version. The patch
 * applies to the version in force when it is written (an approved change lands on what is there).
 */
export async function writePolicyChange(
  knex: Knex,
  input: { tenantId: string; patch: Partial<ProgramPolicy>; createdBy: string; reason: string | null },
): Promise<{ version: number }> {
  const { tenantId } = input;
  return knex.transaction(async (trx) => {
    await trx('tenants').where({ id: tenantId }).forUpdate().first();
    const { version, policy } = await currentPolicy(trx, tenantId);
    await writePolicyVersion(trx, {
      tenantId,
      version: version + 1,
      policy: { ...policy, ...input.patch },
      createdBy: input.createdBy,
      reason: input.reason,
    });
    await trx('tenants')
      .where({ id: tenantId })
      .update({ policyVersion: version + 1, updatedAt: trx.fn.now() });
    return { version: version + 1 };
  });
}

/** The partner new cards go to has its cards reconciled too, on the tenant's schedule with it. */
async function ensurePartnerSchedule(
  deps: { knex: Knex; reconciliation?: TenantDeps['reconciliation'] },
  tenantId: string,
  partner: string,
): Promise<void> {
  const rec = deps.reconciliation;
  if (!rec) return;
  try {
    await ensureReconciliationSchedule(
      { knex: deps.knex, temporal: rec.temporal, taskQueue: rec.taskQueue, settings: rec.settings },
      { tenantId, partner },
    );
  } catch (err) {
    rec.log.warn({ err: String(err), tenantId, partner }, 'reconciliation schedule not created');
  }
}
