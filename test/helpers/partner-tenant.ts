/**
 * A tenant whose program issues at a real partner (`PATCH /admin/policy {partner}`), connected to
 * it by a subscription carrying the partner's own signing secret, API key and base URL
 * (stripe-mock's proxy, the Lithic fake): `POST /admin/partners/:partner/subscriptions`.
 */
import crypto from 'node:crypto';
import type { ProgramPolicy } from '../../src/domain/policy';
import { newTenant, uniq, type TestTenant } from './fixtures';
import type { Harness } from './harness';

export interface PartnerTenant {
  tenant: TestTenant;
  subscriptionId: string;
  /** Where the partner delivers its webhooks. */
  subscriptionUrl: string;
  /** What the partner signs its deliveries with. */
  signingSecret: string;
}

/** A secret as Stripe and Lithic make them: `whsec_` and base64. */
const partnerSecret = (): string => `whsec_${crypto.randomBytes(24).toString('base64')}`;

export async function partnerTenant(
  h: Harness,
  partner: string,
  credentials: {
    apiKey: string;
    apiBaseUrl: string;
    authorizationSigningSecret?: string;
    /** The partner's own; one is made when not given. */
    signingSecret?: string;
  },
  opts: { policy?: Partial<ProgramPolicy> } = {},
): Promise<PartnerTenant> {
  const tenant = await newTenant(h, opts.policy);
  const policy = await h.request('PATCH', '/admin/policy', { key: tenant.operatorKey, body: { partner } });
  if (policy.status !== 200) throw new Error(`policy: ${policy.status} ${JSON.stringify(policy.body)}`);
  const signingSecret = credentials.signingSecret ?? partnerSecret();
  const sub = await h.request('POST', `/admin/partners/${partner}/subscriptions`, {
    key: tenant.operatorKey,
    body: { ...credentials, signingSecret },
    headers: { 'idempotency-key': uniq('sub') },
  });
  if (sub.status !== 201) throw new Error(`subscription: ${sub.status} ${JSON.stringify(sub.body)}`);
  return { tenant, subscriptionId: sub.body.id, subscriptionUrl: sub.body.url, signingSecret };
}
