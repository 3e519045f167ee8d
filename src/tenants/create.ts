import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ReconciliationSettings } from '../config';
import type { ProgramPolicy } from '../domain/policy';
import { DomainError } from '../domain/errors';
import { newId } from '../lib/ids';
import type { PartnerRegistry } from '../partners/adapter';
import { provisionedPartners } from '../partners/registry';
import { assertRegisteredPartner } from '../policies/change';
import { writePolicyVersion } from '../policies/versions';
import { defaultPolicy } from '../policies/current';
import { ensureReconciliationSchedule } from '../reconciliation/runs';
import type { Vault } from '../vault/vault';
import { createSubscription } from '../webhooks/subscriptions';
import { createApiKey } from './api-keys';

export interface TenantDeps {
  knex: Knex;
  vault: Vault;
  partners: PartnerRegistry;
  /** The platform's URL: where the new subscriptions' webhooks arrive. */
  publicUrl: string;
  /**
   * Put the tenant's reconciliation schedules in place with each provisioned partner (null: not
   * here; `npm run reconcile:schedule` or the next `npm run dev` does it).
   */
  reconciliation?: {
    temporal: Client;
    taskQueue: string;
    settings?: Partial<ReconciliationSettings>;
    log: Logger;
  } | null;
}

export interface TenantCredentials {
  id: string;
  slug: string;
  name: string;
  appKey: string;
  operatorKey: string;
  approverKey: string;
  /** What each provisioned partner's subscription adds (the sandbox's `sandboxWebhookUrl`, `…Secret`). */
  partnerCredentials: Record<string, string>;
  subscriptions: Array<{ partner: string; id: string }>;
  /** The reconciliation schedule made with the tenant (null: none could be made here now). */
  reconciliationSchedule: string | null;
}

/** The response fields that are secrets (shown once): the keys and the partners' secret fields. */
export const tenantSecretFields = (partners: PartnerRegistry): string[] => [
  'appKey',
  'operatorKey',
  'approverKey',
  ...provisionedPartners(partners).flatMap((a) => a.provision!.secretFields),
];

/**
 * A new card program: tenant, policy version 1, app/operator/approver keys and a webhook
 * subscription with each partner the platform provisions itself, in one transaction; then its
 * reconciliation schedule with them. The tenant exists either way: a schedule Temporal could not
 * take now is put in place by `npm run reconcile:schedule` (or the next `npm run dev`).
 */
export async function createTenant(
  deps: TenantDeps,
  input: { slug: string; name: string; policy?: Partial<ProgramPolicy>; createdBy: string },
): Promise<TenantCredentials> {
  if (input.policy?.partner !== undefined) assertRegisteredPartner(deps.partners, input.policy.partner);
  const created = await deps.knex.transaction(async (trx) => {
    const taken = await trx('tenants').where({ slug: input.slug }).first();
    if (taken) throw new DomainError('TENANT_SLUG_TAKEN', `a tenant with slug ${input.slug} exists`);
    const id = newId('tenant');
    const inserted = await trx('tenants')
      .insert({ id, slug: input.slug, name: input.name, policyVersion: 1 })
      .onConflict('slug')
      .ignore()
      .returning('id');
    // A concurrent request took the slug between the check above and this insert.
    if (!inserted.length)
      throw new DomainError('TENANT_SLUG_TAKEN', `a tenant with slug ${input.slug} exists`);
    await writePolicyVersion(trx, {
      tenantId: id,
      version: 1,
      policy: { ...defaultPolicy(), ...input.policy },
      createdBy: input.createdBy,
      reason: 'tenant created',
    });
    const app = await createApiKey(trx, id, 'app', 'default app key');
    const operator = await createApiKey(trx, id, 'operator', 'default operator key');
    const approver = await createApiKey(trx, id, 'approver', 'default approver key');
    const partnerCredentials: Record<string, string> = {};
    const subscriptions: Array<{ partner: string; id: string }> = [];
    for (const adapter of provisionedPartners(deps.partners)) {
      const sub = await createSubscription(trx, deps.vault, id, adapter.name, adapter.eventTypes);
      subscriptions.push({ partner: adapter.name, id: sub.id });
      Object.assign(
        partnerCredentials,
        adapter.provision!.credentials({
          id: sub.id,
          url: `${deps.publicUrl}/webhooks/${adapter.name}/${sub.id}`,
          secret: sub.secret,
        }),
      );
    }
    return {
      id,
      slug: input.slug,
      name: input.name,
      appKey: app.key,
      operatorKey: operator.key,
      approverKey: approver.key,
      partnerCredentials,
      subscriptions,
    };
  });
  let reconciliationSchedule: string | null = null;
  const rec = deps.reconciliation;
  if (rec) {
    for (const { partner } of created.subscriptions) {
      try {
        const { scheduleId } = await ensureReconciliationSchedule(
          { knex: deps.knex, temporal: rec.temporal, taskQueue: rec.taskQueue, settings: rec.settings },
          { tenantId: created.id, partner },
        );
        reconciliationSchedule ??= scheduleId;
      } catch (err) {
        rec.log.warn(
          { err: String(err), tenantId: created.id, partner },
          'reconciliation schedule not created',
        );
      }
    }
  }
  return { ...created, reconciliationSchedule };
}
