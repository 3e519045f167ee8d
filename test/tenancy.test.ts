import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';

const h = useHarness();
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  [a, b] = await Promise.all([newTenant(h), newTenant(h)]);
});

describe('tenancy', () => {
  it("answers 404 to tenant B's keys for tenant A's users and cards, and changes nothing", async () => {
    const user = await newUser(h, a);
    const card = (await issueCard(h, a, user.id)).body;
    for (const [method, path] of [
      ['GET', `/v1/users/${user.id}`],
      ['GET', `/v1/cards/${card.id}`],
      ['GET', `/v1/cards/${card.id}/transactions`],
      ['POST', `/v1/cards/${card.id}/freeze`],
      ['POST', `/v1/cards/${card.id}/cancel`],
      ['POST', `/v1/cards/${card.id}/reveal`],
    ] as const) {
      const res = await h.request(method, path, { key: b.appKey });
      expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({
        path,
        status: 404,
        code: 'NOT_FOUND',
      });
    }
    // B cannot issue a card for A's user either.
    const issue = await issueCard(h, b, user.id);
    expect(issue.status).toBe(404);
    // B's listing does not show A's cards.
    const list = await h.request('GET', `/v1/cards?userId=${user.id}`, { key: b.appKey });
    expect(list.body.data).toEqual([]);
    // A's card is untouched.
    const mine = await h.request('GET', `/v1/cards/${card.id}`, { key: a.appKey });
    expect(mine.body.status).toBe('active');
  });

  it('rejects missing and unknown keys with 401, and wrong roles with 403', async () => {
    const none = await h.request('GET', '/v1/cards');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    const bogus = await h.request('GET', '/v1/cards', { key: 'vcn_app_not-a-real-key' });
    expect(bogus.status).toBe(401);
    const operator = await h.request('GET', '/v1/cards', { key: a.operatorKey });
    expect(operator.status).toBe(403);
    const appMakesTenant = await h.request('POST', '/admin/tenants', {
      key: a.appKey,
      body: { slug: 'nope', name: 'x' },
    });
    expect(appMakesTenant.status).toBe(403);
  });

  it('stores API keys only as hashes', async () => {
    const rows = await h.knex('api_keys').where({ tenantId: a.id });
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
      expect([a.appKey, a.operatorKey, a.approverKey]).not.toContain(row.keyHash);
    }
    const serialized = JSON.stringify(rows);
    expect(serialized.includes(a.appKey)).toBe(false);
  });

  it('never stores a new tenant’s keys in the idempotency record; a replay shows them redacted', async () => {
    const slug = `t-${Date.now().toString(36)}`;
    const headers = { 'idempotency-key': `create-${slug}` };
    const first = await h.request('POST', '/admin/tenants', {
      key: h.platformKey,
      body: { slug, name: 'x' },
      headers,
    });
    expect(first.status).toBe(201);
    const replay = await h.request('POST', '/admin/tenants', {
      key: h.platformKey,
      body: { slug, name: 'x' },
      headers,
    });
    expect(replay.status).toBe(201);
    expect(replay.body).toMatchObject({
      id: first.body.id,
      appKey: '[shown once]',
      sandboxWebhookSecret: '[shown once]',
    });
    const stored = JSON.stringify(
      await h.knex('idempotency_keys').where({ key: headers['idempotency-key'] }),
    );
    for (const secret of [
      first.body.appKey,
      first.body.operatorKey,
      first.body.approverKey,
      first.body.sandboxWebhookSecret,
    ]) {
      expect(stored.includes(secret)).toBe(false);
    }
  });

  it('creates a tenant once per slug', async () => {
    const res = await h.request('POST', '/admin/tenants', {
      key: h.platformKey,
      body: { slug: a.slug, name: 'dup' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('TENANT_SLUG_TAKEN');
  });
});
