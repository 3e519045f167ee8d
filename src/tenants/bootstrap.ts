/**
 * A production deployment's first credentials, made once: a platform key and a first tenant with
 * its app, operator and approver keys (and a subscription with each partner the platform
 * provisions itself, where that partner is enabled). Run again, it changes nothing: a platform key
 * already exists, so there is nothing a second run could make without minting a second way in.
 */
import type { Knex } from 'knex';
import type { PartnerRegistry } from '../partners/adapter';
import type { Vault } from '../vault/vault';
import { createApiKey } from './api-keys';
import { createTenant, type TenantCredentials } from './create';

export type BootstrapResult =
  { created: true; platformKey: string; tenant: TenantCredentials } | { created: false; reason: string };

/** One bootstrap at a time, across processes (two deployments' jobs starting together). */
const LOCK = 'vcn-platform:bootstrap';

export async function bootstrapPlatform(
  deps: { knex: Knex; vault: Vault; partners: PartnerRegistry; publicUrl: string },
  input: { slug: string; name: string },
): Promise<BootstrapResult> {
  return deps.knex.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [LOCK]);
    const existing = await trx('api_keys')
      .where({ role: 'platform' })
      .whereNull('revokedAt')
      .first('id', 'createdAt');
    if (existing)
      return {
        created: false,
        reason: `a platform key exists (${existing.id}, created ${new Date(existing.createdAt).toISOString()})`,
      };
    const platform = await createApiKey(trx, null, 'platform', 'bootstrap platform key');
    // Inside this transaction (createTenant's own is a savepoint): the key and the tenant land together.
    const tenant = await createTenant(
      { ...deps, knex: trx as unknown as Knex, reconciliation: null },
      { slug: input.slug, name: input.name, createdBy: platform.id },
    );
    return { created: true, platformKey: platform.key, tenant };
  });
}

/**
 * The registry a bootstrap provisions with: every partner, but only those the platform provisions
 * itself when it is enabled here (a deployment without the sandbox gets no sandbox subscription).
 */
export function provisioning(partners: PartnerRegistry, provisionedEnabled: boolean): PartnerRegistry {
  if (provisionedEnabled) return partners;
  return Object.freeze(
    Object.fromEntries(
      Object.entries(partners).map(([name, adapter]) => [
        name,
        adapter.provision
          ? Object.assign(Object.create(adapter) as typeof adapter, { provision: undefined })
          : adapter,
      ]),
    ),
  );
}
