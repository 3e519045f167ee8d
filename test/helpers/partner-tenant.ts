/**
 * A tenant whose program issues at a real partner (`PATCH /admin/policy {partner}`), connected to
 * it by a subscription carrying the partner's API key and base URL (stripe-mock's proxy, the
 * Lithic fake).
 */
import { newTenant, uniq, type TestTenant } from './fixtures';
import type { Harness } from './harness';

export interface PartnerTenant {
  tenant: TestTenant;
  subscriptionId: string;
  /** What the partner signs its deliveries with. */
  signingSecret: string;
}

export async function partnerTenant(
  h: Harness,
  partner: string,
  credentials: { apiKey: string; apiBaseUrl: string },
): Promise<PartnerTenant> {
  const tenant = await newTenant(h);
  const policy = await h.request('PATCH', '/admin/policy', { key: tenant.operatorKey, body: { partner } });
  if (policy.status !== 200) throw new Error(`policy: ${policy.status} ${JSON.stringify(policy.body)}`);
  // SHIM until the subscriptions API takes credentials: seal them straight into the row.
  const sub = await h.request('POST', `/admin/partners/${partner}/subscriptions`, {
    key: tenant.operatorKey,
    body: {},
    headers: { 'idempotency-key': uniq('sub') },
  });
  if (sub.status !== 201) throw new Error(`subscription: ${sub.status} ${JSON.stringify(sub.body)}`);
  await h
    .knex('partner_subscriptions')
    .where({ id: sub.body.id })
    .update({
      apiKeyEncrypted: h.vault.sealString(credentials.apiKey, `partner-api-key:${tenant.id}:${sub.body.id}`),
      apiBaseUrl: credentials.apiBaseUrl,
    });
  return { tenant, subscriptionId: sub.body.id, signingSecret: sub.body.secret };
}
