import crypto from 'node:crypto';
import type { ProgramPolicy } from '../../src/domain/policy';
import type { Harness } from './harness';

export interface TestTenant {
  id: string;
  slug: string;
  appKey: string;
  operatorKey: string;
  approverKey: string;
  sandboxWebhookUrl: string;
  sandboxWebhookSecret: string;
}

export const uniq = (prefix: string): string => `${prefix}-${crypto.randomBytes(5).toString('hex')}`;

export async function newTenant(h: Harness, policy: Partial<ProgramPolicy> = {}): Promise<TestTenant> {
  const res = await h.request<TestTenant>('POST', '/admin/tenants', {
    key: h.platformKey,
    body: { slug: uniq('t'), name: 'Test program', policy },
  });
  if (res.status !== 201)
    throw new Error(`tenant creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function newUser(h: Harness, t: TestTenant, region = 'US-CA'): Promise<{ id: string }> {
  const res = await h.request<{ id: string }>('POST', '/v1/users', {
    key: t.appKey,
    body: { externalId: uniq('ext'), name: 'Test Shopper', region },
  });
  if (res.status !== 201) throw new Error(`user creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export function cardBody(userId: string, extra: Record<string, unknown> = {}) {
  return {
    userId,
    currency: 'USD',
    controls: { spendingLimits: [{ amount: 20_000, interval: 'all_time' }] },
    ...extra,
  };
}

export async function issueCard(
  h: Harness,
  t: TestTenant,
  userId: string,
  extra: Record<string, unknown> = {},
) {
  return h.request('POST', '/v1/cards', {
    key: t.appKey,
    body: cardBody(userId, extra),
    headers: { 'idempotency-key': uniq('idem') },
  });
}
