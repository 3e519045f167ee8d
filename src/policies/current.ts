import type { Knex } from 'knex';
import { DEFAULT_POLICY, type ProgramPolicy } from '../domain/policy';

export interface PolicyInForce {
  version: number;
  policy: ProgramPolicy;
}

/** The tenant's policy in force (the version tenants.policy_version points at). */
export async function currentPolicy(db: Knex | Knex.Transaction, tenantId: string): Promise<PolicyInForce> {
  const row = await db('tenant_policies as p')
    .join('tenants as t', function () {
      this.on('t.id', '=', 'p.tenant_id').andOn('t.policy_version', '=', 'p.version');
    })
    .where('t.id', tenantId)
    .first<{ version: number; policy: ProgramPolicy }>('p.version', 'p.policy');
  if (!row) throw new Error(`tenant ${tenantId} has no policy`);
  return { version: row.version, policy: { ...DEFAULT_POLICY, ...row.policy } };
}
