import type { Knex } from 'knex';
import { DEFAULT_POLICY, type ProgramPolicy } from '../domain/policy';
import { DEFAULT_PARTNER } from '../partners/registry';

/** A program's policy with every field set: the defaults fill what its stored version predates. */
export type Policy = ProgramPolicy & { partner: string };

export interface PolicyInForce {
  version: number;
  policy: Policy;
}

/** The policy a new program starts with (before its own changes). */
export const defaultPolicy = (): Policy => ({ ...DEFAULT_POLICY, partner: DEFAULT_PARTNER });

/** A stored policy version with the defaults under it. */
export const withDefaults = (stored: Partial<ProgramPolicy>): Policy => ({ ...defaultPolicy(), ...stored });

/** The tenant's policy in force (the version tenants.policy_version points at). */
export async function currentPolicy(db: Knex | Knex.Transaction, tenantId: string): Promise<PolicyInForce> {
  const row = await db('tenant_policies as p')
    .join('tenants as t', function () {
      this.on('t.id', '=', 'p.tenant_id').andOn('t.policy_version', '=', 'p.version');
    })
    .where('t.id', tenantId)
    .first<{ version: number; policy: ProgramPolicy }>('p.version', 'p.policy');
  if (!row) throw new Error(`tenant ${tenantId} has no policy`);
  return { version: row.version, policy: withDefaults(row.policy) };
}
