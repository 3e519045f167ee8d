import type { Knex } from 'knex';
import type { Vault } from '../vault/vault';
import { createApiKey } from '../services/api-keys';
import { createTenant, type TenantCredentials } from '../services/tenants';

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
    sandboxWebhookUrl: t.sandboxWebhookUrl,
    sandboxWebhookSecret: t.sandboxWebhookSecret,
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
    knex,
    vault,
    { slug: 'demo', name: 'Demo program', createdBy: platform.id },
    urls.apiUrl,
  );
  return { ...urls, platformKey: platform.key, tenants: [credentialsEntry(demo)] };
}
