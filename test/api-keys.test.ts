import { startHarness, type Harness } from './helpers/harness';
import { newTenant, type TestTenant } from './helpers/fixtures';
import { eventually, inMs } from './helpers/wait';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

// The tenant's default keys are their own principals (their names).
const OPERATOR = 'default operator key';
const APPROVER = 'default approver key';

beforeAll(async () => {
  h = await startHarness();
  [a, b] = await Promise.all([newTenant(h), newTenant(h)]);
});
afterAll(() => h.stop());

const create = (key: string, body: Record<string, unknown>) =>
  h.request('POST', '/admin/api-keys', { key, body });
/** A request any key of the role may make: 200 while the key authenticates. */
const probe = (key: string, role: 'app' | 'operator') =>
  h.request('GET', role === 'app' ? '/v1/cards' : '/admin/api-keys', { key });
const actionsOf = (keyId: string) =>
  h.knex('admin_actions').where({ subjectType: 'api_key', subjectId: keyId }).orderBy('createdAt');

describe('API keys', () => {
  it('creates keys of each role with a principal, shows the secret once, and records the action', async () => {
    const app = await create(a.operatorKey, { role: 'app', name: 'checkout', principal: 'checkout-service' });
    expect(app.status).toBe(201);
    expect(app.body).toMatchObject({
      role: 'app',
      name: 'checkout',
      principal: 'checkout-service',
      expiresAt: null,
    });
    expect(app.body.id).toMatch(/^key_/);
    expect(app.body.key).toMatch(/^vcn_app_/);
    expect(app.headers.get('cache-control')).toBe('no-store');
    expect((await probe(app.body.key, 'app')).status).toBe(200);

    const operator = await create(a.operatorKey, { role: 'operator', name: 'laptop', principal: OPERATOR });
    expect(operator.status).toBe(201);
    expect((await probe(operator.body.key, 'operator')).status).toBe(200);

    const approver = await create(a.approverKey, { role: 'approver', name: 'phone', principal: APPROVER });
    expect(approver.status).toBe(201);
    expect(approver.body.key).toMatch(/^vcn_approver_/);
    const fromPlatform = await create(h.platformKey, {
      role: 'approver',
      name: 'carol',
      principal: 'carol',
      tenantId: a.id,
    });
    expect(fromPlatform.status).toBe(201);
    expect(fromPlatform.body.tenantId).toBe(a.id);

    const stored = await h.knex('api_keys').where({ id: app.body.id }).first();
    expect(stored.keyHash).not.toContain(app.body.key);
    const actions = await actionsOf(app.body.id);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ type: 'create_api_key', tenantId: a.id, requiresApproval: false });
    const decisions = await h.knex('admin_action_decisions').where({ actionId: actions[0].id });
    expect(decisions.map((d) => d.decision)).toEqual(['applied']);
    // The secret is in no other table.
    for (const table of ['admin_actions', 'admin_action_decisions', 'idempotency_keys']) {
      const rows = await h.knex(table).select('*');
      expect(JSON.stringify(rows)).not.toContain(app.body.key);
    }
  });

  it('refuses bad input with 400 and keys that would give a second principal power with 403', async () => {
    for (const body of [
      { role: 'app', name: 'no principal' },
      { role: 'app', name: 'x', principal: '   ' },
      { role: 'platform', name: 'x', principal: 'x' },
      { role: 'app', name: 'x', principal: 'x', expiresAt: 'tomorrow' },
      { role: 'app', name: 'x', principal: 'x', expiresAt: new Date(Date.now() - 1000).toISOString() },
      { role: 'app', name: 'x', principal: 'x', tenantId: b.id },
      { role: 'app', name: 'x\u0000', principal: 'x' },
    ]) {
      const res = await create(a.operatorKey, body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({
        body,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const platformWithoutTenant = await create(h.platformKey, { role: 'app', name: 'x', principal: 'x' });
    expect(platformWithoutTenant.status).toBe(400);
    for (const [key, body] of [
      [a.operatorKey, { role: 'approver', name: 'self', principal: OPERATOR }],
      [a.operatorKey, { role: 'operator', name: 'bob', principal: 'bob' }],
      [a.approverKey, { role: 'operator', name: 'bob', principal: 'bob' }],
      [a.approverKey, { role: 'approver', name: 'bob', principal: 'bob' }],
    ] as const) {
      const res = await create(key, body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({
        body,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
    const byApp = await create(a.appKey, { role: 'app', name: 'x', principal: 'x' });
    expect(byApp.status).toBe(403);
    expect((await h.request('GET', '/admin/api-keys', { key: a.appKey })).status).toBe(403);
  });

  it('replays a retried create with the same key id and without the secret', async () => {
    const headers = { 'Idempotency-Key': `create-${Math.random()}` };
    const first = await h.request('POST', '/admin/api-keys', {
      key: a.operatorKey,
      body: { role: 'app', name: 'retried', principal: 'retry-service' },
      headers,
    });
    const again = await h.request('POST', '/admin/api-keys', {
      key: a.operatorKey,
      body: { role: 'app', name: 'retried', principal: 'retry-service' },
      headers,
    });
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.key).toBe('[shown once]');
    expect(JSON.stringify(await h.knex('idempotency_keys').select('*'))).not.toContain(first.body.key);
    expect(await h.knex('api_keys').where({ tenantId: a.id, name: 'retried' })).toHaveLength(1);
  });

  it('lists the tenant’s keys without secrets or hashes, paginated', async () => {
    const made = await create(a.operatorKey, { role: 'app', name: 'listed', principal: 'lister' });
    const first = await h.request('GET', '/admin/api-keys?limit=2', { key: a.operatorKey });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const all = await h.request('GET', '/admin/api-keys?limit=200', { key: a.operatorKey });
    const row = all.body.data.find((k: { id: string }) => k.id === made.body.id);
    expect(row).toMatchObject({
      principal: 'lister',
      keyPrefix: made.body.key.slice(0, 16),
      revokedAt: null,
    });
    expect(Object.keys(row)).toEqual(expect.arrayContaining(['lastUsedAt', 'expiresAt', 'createdAt']));
    const text = JSON.stringify(all.body);
    expect(text).not.toContain(made.body.key);
    expect(text).not.toMatch(/keyHash|[0-9a-f]{64}/);
    expect(all.body.data.every((k: { tenantId: string }) => k.tenantId === a.id)).toBe(true);
    const next = await h.request('GET', `/admin/api-keys?limit=2&cursor=${first.body.nextCursor}`, {
      key: a.operatorKey,
    });
    expect(next.body.data.map((k: { id: string }) => k.id)).not.toContain(first.body.data[0].id);
    const bad = await h.request('GET', '/admin/api-keys?cursor=nonsense', { key: a.operatorKey });
    expect(bad.status).toBe(400);
    const platform = await h.request('GET', `/admin/api-keys?tenantId=${b.id}`, { key: h.platformKey });
    expect(platform.status).toBe(200);
    expect(platform.body.data.every((k: { tenantId: string }) => k.tenantId === b.id)).toBe(true);
  });

  it('sets lastUsedAt when a key is used', async () => {
    const made = await create(a.operatorKey, { role: 'app', name: 'used', principal: 'user-service' });
    const before = await h.knex('api_keys').where({ id: made.body.id }).first();
    expect(before.lastUsedAt).toBeNull();
    expect((await probe(made.body.key, 'app')).status).toBe(200);
    const after = await h.knex('api_keys').where({ id: made.body.id }).first();
    expect(after.lastUsedAt).toBeInstanceOf(Date);
    // Used again within the minute: not written again.
    expect((await probe(made.body.key, 'app')).status).toBe(200);
    const again = await h.knex('api_keys').where({ id: made.body.id }).first();
    expect(again.lastUsedAt).toEqual(after.lastUsedAt);
    const listed = await h.request('GET', '/admin/api-keys?limit=200', { key: a.operatorKey });
    const row = listed.body.data.find((k: { id: string }) => k.id === made.body.id);
    expect(row.lastUsedAt).toBe(new Date(after.lastUsedAt).toISOString());
  });

  it('rotates: a new secret for the same key, the old one valid for the overlap, then 401', async () => {
    const made = await create(a.operatorKey, { role: 'operator', name: 'rotated', principal: OPERATOR });
    const old = made.body.key as string;
    const rotated = await h.request('POST', `/admin/api-keys/${made.body.id}/rotate`, {
      key: a.operatorKey,
      body: { overlapSeconds: 4 },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: made.body.id, role: 'operator', principal: OPERATOR });
    expect(rotated.body.key).not.toBe(old);
    expect(rotated.body.previousKeyExpiresAt).toEqual(expect.any(String));
    const fresh = rotated.body.key as string;
    // Both work inside the overlap, as the same key.
    expect((await probe(old, 'operator')).status).toBe(200);
    expect((await probe(fresh, 'operator')).status).toBe(200);
    // After it, the old one is refused; the new one still works.
    const refused = await eventually(async () => {
      const res = await probe(old, 'operator');
      return res.status === 401 ? res : null;
    }, 10_000);
    expect(refused.body.error.code).toBe('UNAUTHENTICATED');
    expect((await probe(fresh, 'operator')).status).toBe(200);
    expect((await actionsOf(made.body.id)).map((x) => x.type)).toEqual(['create_api_key', 'rotate_api_key']);

    // Without an overlap the replaced secret stops at once; the default overlap is a day.
    const now = await h.request('POST', `/admin/api-keys/${made.body.id}/rotate`, {
      key: a.operatorKey,
      body: { overlapSeconds: 0 },
    });
    expect((await probe(fresh, 'operator')).status).toBe(401);
    const byDefault = await h.request('POST', `/admin/api-keys/${made.body.id}/rotate`, {
      key: now.body.key,
      body: {},
    });
    const overlap = new Date(byDefault.body.previousKeyExpiresAt).getTime() - Date.now();
    expect(overlap).toBeGreaterThan(23 * 3600_000);
    expect(overlap).toBeLessThanOrEqual(24 * 3600_000 + 5_000);
    const tooLong = await h.request('POST', `/admin/api-keys/${made.body.id}/rotate`, {
      key: a.operatorKey,
      body: { overlapSeconds: -1 },
    });
    expect(tooLong.status).toBe(400);
  });

  it('revokes: 401 for that key from the next request on, and a second revoke is 409', async () => {
    const made = await create(a.approverKey, { role: 'app', name: 'revoked', principal: 'batch-job' });
    expect((await probe(made.body.key, 'app')).status).toBe(200);
    const revoked = await h.request('POST', `/admin/api-keys/${made.body.id}/revoke`, {
      key: a.approverKey,
      body: { reason: 'leaked in a log' },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const next = await probe(made.body.key, 'app');
    expect(next.status).toBe(401);
    expect(next.body.error.code).toBe('UNAUTHENTICATED');
    const again = await h.request('POST', `/admin/api-keys/${made.body.id}/revoke`, { key: a.approverKey });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('API_KEY_REVOKED');
    const rotate = await h.request('POST', `/admin/api-keys/${made.body.id}/rotate`, { key: a.approverKey });
    expect(rotate.status).toBe(409);
    const actions = await actionsOf(made.body.id);
    expect(actions.map((x) => x.type)).toEqual(['create_api_key', 'revoke_api_key']);
    expect(actions[1].reason).toBe('leaked in a log');
  });

  it('refuses an expired key with 401', async () => {
    const made = await create(a.operatorKey, {
      role: 'app',
      name: 'short-lived',
      principal: 'temp',
      expiresAt: inMs(4000),
    });
    expect(made.status).toBe(201);
    expect((await probe(made.body.key, 'app')).status).toBe(200);
    const refused = await eventually(async () => {
      const res = await probe(made.body.key, 'app');
      return res.status === 401 ? res : null;
    }, 10_000);
    expect(refused.body.error.code).toBe('UNAUTHENTICATED');
  });

  it("answers 404 for another tenant's key, and 403 for a key the caller may not manage", async () => {
    const theirs = await create(b.operatorKey, { role: 'app', name: 'theirs', principal: 'b-service' });
    for (const action of ['rotate', 'revoke']) {
      const res = await h.request('POST', `/admin/api-keys/${theirs.body.id}/${action}`, {
        key: a.operatorKey,
      });
      expect({ action, status: res.status, code: res.body.error?.code }).toEqual({
        action,
        status: 404,
        code: 'NOT_FOUND',
      });
    }
    for (const id of ['key_doesnotexist', 'nonsense', '__proto__']) {
      const res = await h.request('POST', `/admin/api-keys/${id}/revoke`, { key: a.operatorKey });
      expect(res.status).toBe(404);
    }
    expect((await probe(theirs.body.key, 'app')).status).toBe(200);
    // An operator cannot take over (rotate) the approver's key.
    const approverKeyId = (await h.knex('api_keys').where({ tenantId: a.id, principal: APPROVER }).first())
      .id;
    const takeover = await h.request('POST', `/admin/api-keys/${approverKeyId}/rotate`, {
      key: a.operatorKey,
    });
    expect(takeover.status).toBe(403);
    // The platform may, for any tenant key; the platform's own keys are not managed here.
    const platformKeyId = (await h.knex('api_keys').where({ role: 'platform' }).first()).id;
    const platformKey = await h.request('POST', `/admin/api-keys/${platformKeyId}/revoke`, {
      key: h.platformKey,
    });
    expect(platformKey.status).toBe(404);
    const byPlatform = await h.request('POST', `/admin/api-keys/${theirs.body.id}/revoke`, {
      key: h.platformKey,
    });
    expect(byPlatform.status).toBe(200);
    expect((await probe(theirs.body.key, 'app')).status).toBe(401);
  });
});
