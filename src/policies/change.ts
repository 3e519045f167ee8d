import type { Knex } from 'knex';
import type { ApiKeyRole } from '../domain/auth';
import { DomainError } from '../domain/errors';
import type { ProgramPolicy } from '../domain/policy';
import { hasPartner, type PartnerRegistry } from '../partners/adapter';
import { ensureReconciliationSchedule } from '../reconciliation/runs';
import type { TenantDeps } from '../tenants/create';
import { currentPolicy, type Policy } from './current';
import { writePolicyVersion } from './versions';

/** The money limits whose raising above the approval threshold needs an approver. */
const GUARDED_LIMITS = ['maxCardSpendLimit', 'weeklySpendLimitPerUser', 'overrideApprovalThreshold'] as const;

/** The limits a change raises above the approval threshold (null: no cap at all, the highest). Pure. */
export function limitsRaisedAboveThreshold(policy: Policy, patch: Partial<ProgramPolicy>): string[] {
  return GUARDED_LIMITS.filter((k) => {
    const next = patch[k];
    if (next === undefined) return false;
    const prev = policy[k];
    const raising = next === null ? prev !== null : prev !== null && next > prev;
    return raising && (next === null || next > policy.overrideApprovalThreshold);
  });
}

/** New cards can only be issued at a partner this platform has an adapter for. */
export function assertRegisteredPartner(partners: PartnerRegistry, partner: string): void {
  if (!hasPartner(partners, partner))
    throw new DomainError('VALIDATION_FAILED', `no partner named ${partner}`, {
      fields: [{ path: 'partner', message: 'not a registered partner' }],
    });
}

/**
 * A new policy version (the old ones stay, so any decision can be explained by the version in
 * force), under the tenant's row lock so that two changes never take the same version. Raising a
 * money limit above the approval threshold needs an approver.
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
): Promise<{ version: number }> {
  const { tenantId, patch } = input;
  if (Object.keys(patch).length === 0) throw new DomainError('VALIDATION_FAILED', 'nothing to change');
  if (patch.partner !== undefined) assertRegisteredPartner(deps.partners, patch.partner);
  const changed = await deps.knex.transaction(async (trx) => {
    await trx('tenants').where({ id: tenantId }).forUpdate().first();
    const { version, policy } = await currentPolicy(trx, tenantId);
    const raised = limitsRaisedAboveThreshold(policy, patch);
    if (raised.length && input.by.role !== 'approver') {
      throw new DomainError(
        'APPROVER_REQUIRED',
        `raising ${raised.join(', ')} above the approval threshold needs an approver key`,
        { raised },
      );
    }
    await writePolicyVersion(trx, {
      tenantId,
      version: version + 1,
      policy: { ...policy, ...patch },
      createdBy: input.by.keyId,
      reason: input.reason ?? null,
    });
    await trx('tenants')
      .where({ id: tenantId })
      .update({ policyVersion: version + 1, updatedAt: trx.fn.now() });
    return { version: version + 1 };
  });
  // The partner new cards go to has its cards reconciled too, on the tenant's schedule with it.
  const rec = deps.reconciliation;
  if (patch.partner !== undefined && rec) {
    try {
      await ensureReconciliationSchedule(
        { knex: deps.knex, temporal: rec.temporal, taskQueue: rec.taskQueue, settings: rec.settings },
        { tenantId, partner: patch.partner },
      );
    } catch (err) {
      rec.log.warn(
        { err: String(err), tenantId, partner: patch.partner },
        'reconciliation schedule not created',
      );
    }
  }
  return changed;
}
