/**
 * The one writer of `tenant_policies` (append-only): each version of a program's policy, kept
 * so that any decision can be explained by the version in force when it was made.
 */
import type { Knex } from 'knex';
import type { ProgramPolicy } from '../domain/policy';

export async function writePolicyVersion(
  trx: Knex.Transaction,
  v: { tenantId: string; version: number; policy: ProgramPolicy; createdBy: string; reason: string | null },
): Promise<void> {
  await trx('tenant_policies').insert({
    tenantId: v.tenantId,
    version: v.version,
    policy: JSON.stringify(v.policy),
    createdBy: v.createdBy,
    reason: v.reason,
  });
}

/** What a policy version changed from the one before it: one entry per top-level field. */
export function policyChanges(
  before: Partial<ProgramPolicy> | null,
  after: Partial<ProgramPolicy>,
): Array<{ field: string; from: unknown; to: unknown }> {
  const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after)])].sort();
  return fields
    .filter(
      (f) =>
        JSON.stringify(before?.[f as keyof ProgramPolicy]) !==
        JSON.stringify(after[f as keyof ProgramPolicy]),
    )
    .map((f) => ({
      field: f,
      from: before ? (before[f as keyof ProgramPolicy] ?? null) : null,
      to: after[f as keyof ProgramPolicy] ?? null,
    }));
}
