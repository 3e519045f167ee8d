import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import { loadConfig, type ReconciliationSettings } from '../config';
import { ensureReconciliationSchedule } from '../reconciliation/runs';
import type { Vault } from '../vault/vault';
import { createApiKey } from '../tenants/api-keys';
import { createPartnerRegistry } from '../partners/registry';
import { createTenant, type TenantCredentials } from '../tenants/create';

export interface DevCredentials {
  apiUrl: string;
  temporalUiUrl: string;
  platformKey: string;
  tenants: Array<{
    id: string;
    slug: string;
    appKey: string;
    operatorKey: string;
    approverKey: string;
    sandboxWebhookUrl: string;
    sandboxWebhookSecret: string;
  }>;
}

export function credentialsEntry(t: TenantCredentials): DevCredentials['tenants'][number] {
  return {
    id: t.id,
    slug: t.slug,
    appKey: t.appKey,
    operatorKey: t.operatorKey,
    approverKey: t.approverKey,
    sandboxWebhookUrl: t.partnerCredentials.sandboxWebhookUrl!,
    sandboxWebhookSecret: t.partnerCredentials.sandboxWebhookSecret!,
  };
}

/** On an empty database: a platform key and the `demo` tenant. Returns null when already seeded. */
export async function seedIfEmpty(
  knex: Knex,
  vault: Vault,
  urls: { apiUrl: string; temporalUiUrl: string },
): Promise<DevCredentials | null> {
  const existing = await knex('tenants').first();
  if (existing) return null;
  const platform = await createApiKey(knex, null, 'platform', 'dev platform key');
  const demo = await createTenant(
    {
      knex,
      vault,
      partners: createPartnerRegistry({ knex, vault, publicUrl: () => urls.apiUrl }),
      publicUrl: urls.apiUrl,
    },
    { slug: 'demo', name: 'Demo program', createdBy: platform.id },
  );
  return { ...urls, platformKey: platform.key, tenants: [credentialsEntry(demo)] };
}

/**
 * Every tenant gets its reconciliation schedule with each partner it has an active subscription
 * with (created, or updated to the current settings). `npm run dev` calls it at start-up; in production run
 * `npm run reconcile:schedule` after creating a tenant (README: "Reconciliation").
 */
export async function ensureReconciliationSchedules(
  knex: Knex,
  temporal: Client,
  taskQueue: string,
  settings: Partial<ReconciliationSettings>,
): Promise<Array<{ tenantId: string; scheduleId: string; intervalMs: number }>> {
  const rows = await knex('partner_subscriptions')
    .where({ status: 'active' })
    .distinct('tenantId', 'partner')
    .orderBy('tenantId');
  const out: Array<{ tenantId: string; scheduleId: string; intervalMs: number }> = [];
  for (const r of rows as Array<{ tenantId: string; partner: string }>) {
    const s = await ensureReconciliationSchedule({ knex, temporal, taskQueue, settings }, r);
    out.push({ tenantId: r.tenantId, ...s });
  }
  return out;
}

/** Reconciliation settings from the environment alone (scripts that run before the app's full config exists). */
export function reconciliationSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ReconciliationSettings {
  return loadConfig({ DATABASE_URL: 'unused', TEMPORAL_ADDRESS: 'unused', VAULT_KEY: 'unused', ...env })
    .reconciliation;
}
