import type { Knex } from 'knex';
import { DEFAULT_POLICY, type ProgramPolicy } from '../domain/policy';
import { DomainError } from '../domain/errors';
import { newId, randomToken } from '../lib/ids';
import { SANDBOX_EVENT_TYPES } from '../partners/sandbox/events';
import type { Vault } from '../vault/vault';
import { createApiKey } from './api-keys';

export interface TenantCredentials {
  id: string;
  slug: string;
  name: string;
  appKey: string;
  operatorKey: string;
  approverKey: string;
  sandboxWebhookUrl: string;
  sandboxWebhookSecret: string;
  sandboxSubscriptionId: string;
}

export const subscriptionSecretAad = (tenantId: string, subscriptionId: string): string =>
  `webhook-secret:${tenantId}:${subscriptionId}`;

/** Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(randomToken(24), 'base64url').toString('base64')}`;
}

/** Creates a partner subscription; its signing secret is kept encrypted with the vault key. */
export async function createSubscription(
  trx: Knex | Knex.Transaction,
  vault: Vault,
  tenantId: string,
  partner: string,
  eventTypes: readonly string[],
): Promise<{ id: string; secret: string }> {
  const id = newId('subscription');
  const secret = newWebhookSecret();
  await trx('partner_subscriptions').insert({
    id,
    tenantId,
    partner,
    eventTypes: [...eventTypes],
    status: 'active',
    secretEncrypted: vault.sealString(secret, subscriptionSecretAad(tenantId, id)),
  });
  return { id, secret };
}

/**
 * A new card program: tenant, policy version 1, app/operator/approver keys and a sandbox webhook
 * subscription, in one transaction.
 */
export async function createTenant(
  knex: Knex,
  vault: Vault,
  input: { slug: string; name: string; policy?: Partial<ProgramPolicy>; createdBy: string },
  publicUrl: string,
): Promise<TenantCredentials> {
  return knex.transaction(async (trx) => {
    const taken = await trx('tenants').where({ slug: input.slug }).first();
    if (taken) throw new DomainError('TENANT_SLUG_TAKEN', `a tenant with slug ${input.slug} exists`);
    const id = newId('tenant');
    const created = await trx('tenants')
      .insert({ id, slug: input.slug, name: input.name, policyVersion: 1 })
      .onConflict('slug')
      .ignore()
      .returning('id');
    // A concurrent request took the slug between the check above and this insert.
    if (!created.length) throw new DomainError('TENANT_SLUG_TAKEN', `a tenant with slug ${input.slug} exists`);
    await trx('tenant_policies').insert({
      tenantId: id,
      version: 1,
      policy: JSON.stringify({ ...DEFAULT_POLICY, ...input.policy }),
      createdBy: input.createdBy,
      reason: 'tenant created',
    });
    const app = await createApiKey(trx, id, 'app', 'default app key');
    const operator = await createApiKey(trx, id, 'operator', 'default operator key');
    const approver = await createApiKey(trx, id, 'approver', 'default approver key');
    const sub = await createSubscription(trx, vault, id, 'sandbox', SANDBOX_EVENT_TYPES);
    return {
      id,
      slug: input.slug,
      name: input.name,
      appKey: app.key,
      operatorKey: operator.key,
      approverKey: approver.key,
      sandboxWebhookUrl: `${publicUrl}/webhooks/sandbox/${sub.id}`,
      sandboxWebhookSecret: sub.secret,
      sandboxSubscriptionId: sub.id,
    };
  });
}
