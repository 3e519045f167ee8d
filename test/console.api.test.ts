import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { merchant, sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';
import { consoleRouter, CONSOLE_CSP } from '../src/api/console/router';
import type { ApiDeps, AppState } from '../src/api/context';

jest.setTimeout(120_000);

const h = useHarness();
let t: TestTenant;
let other: TestTenant;
let card: { id: string; last4: string; partnerCardId: string; userId: string };
let otherCard: { id: string; last4: string; partnerCardId: string };
let user: { id: string; externalId: string };

const get = (key: string, p: string) => h.request('GET', p, { key });

async function authorize(tenant: TestTenant, partnerCardId: string, amount: number) {
  const transactionId = uniq('txn');
  const res = await sendEvent(h, tenant, 'authorization.request', {
    transactionId,
    cardId: partnerCardId,
    amount,
    currency: 'USD',
    merchant,
  });
  expect(res.status).toBe(200);
  return { transactionId, approved: res.body.approved as boolean, declineCode: res.body.declineCode };
}

beforeAll(async () => {
  t = await newTenant(h, { authorizationTimeoutMs: 10_000 });
  other = await newTenant(h, { authorizationTimeoutMs: 10_000 });
  const externalId = uniq('shopper');
  const created = await h.request('POST', '/v1/users', {
    key: t.appKey,
    body: { externalId, name: 'Console Shopper', region: 'US-CA' },
  });
  user = { id: created.body.id, externalId };
  const issued = await issueCard(h, t, user.id, {
    controls: {
      spendingLimits: [
        { amount: 20_000, interval: 'all_time' },
        { amount: 5_000, interval: 'per_authorization' },
      ],
    },
  });
  expect(issued.status).toBe(201);
  card = issued.body;
  const o = await issueCard(h, other, (await newUser(h, other)).id);
  expect(o.status).toBe(201);
  otherCard = o.body;
});

describe('GET /admin/me', () => {
  it('names the calling key, its role and tenant, for every kind of key', async () => {
    const op = await get(t.operatorKey, '/admin/me');
    expect(op.status).toBe(200);
    expect(op.body).toMatchObject({
      role: 'operator',
      canApprove: false,
      name: 'default operator key',
      tenant: { id: t.id, slug: t.slug },
    });
    expect(op.body.keyId).toMatch(/^key_/);
    const ap = await get(t.approverKey, '/admin/me');
    expect(ap.body).toMatchObject({ role: 'approver', canApprove: true });
    expect(ap.body.keyId).not.toBe(op.body.keyId);
    // The console refuses an app key with a message of its own: it must learn the role.
    expect((await get(t.appKey, '/admin/me')).body).toMatchObject({ role: 'app', tenant: { id: t.id } });
    expect((await get(h.platformKey, '/admin/me')).body).toMatchObject({ role: 'platform', tenant: null });
    const none = await h.request('GET', '/admin/me');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    expect((await get('not-a-key', '/admin/me')).status).toBe(401);
  });
});

describe('GET /admin/cards/search', () => {
  const ids = (res: { body: { data: Array<{ id: string }> } }) => res.body.data.map((c) => c.id);

  it('finds a card by its id, last4, user id, user external id and partner card id', async () => {
    for (const q of [card.id, card.last4, user.id, user.externalId, card.partnerCardId]) {
      const res = await get(t.operatorKey, `/admin/cards/search?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      expect(ids(res)).toContain(card.id);
    }
    const res = await get(t.operatorKey, `/admin/cards/search?q=${card.last4}`);
    const found = res.body.data.find((c: { id: string }) => c.id === card.id);
    expect(found).toMatchObject({
      last4: card.last4,
      status: 'active',
      user: { id: user.id, externalId: user.externalId, name: 'Console Shopper' },
    });
    // Only the last four digits, never a number.
    expect(JSON.stringify(res.body)).not.toMatch(/\d{12,}/);
  });

  it('filters by status and region, and lists every card without a term', async () => {
    expect(ids(await get(t.operatorKey, `/admin/cards/search?q=${card.id}&status=active`))).toEqual([
      card.id,
    ]);
    expect(ids(await get(t.operatorKey, `/admin/cards/search?q=${card.id}&status=frozen`))).toEqual([]);
    expect(ids(await get(t.operatorKey, `/admin/cards/search?q=${card.id}&region=US`))).toEqual([card.id]);
    expect(ids(await get(t.operatorKey, `/admin/cards/search?q=${card.id}&region=US-NY`))).toEqual([]);
    expect(ids(await get(t.operatorKey, '/admin/cards/search'))).toContain(card.id);
  });

  it("never finds another tenant's card", async () => {
    for (const q of [otherCard.id, otherCard.partnerCardId]) {
      const res = await get(t.operatorKey, `/admin/cards/search?q=${q}`);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([]);
    }
    expect(ids(await get(t.operatorKey, `/admin/cards/search?q=${otherCard.last4}`))).not.toContain(
      otherCard.id,
    );
  });

  it('pages with a cursor', async () => {
    await issueCard(h, t, user.id);
    const first = await get(t.operatorKey, `/admin/cards/search?q=${user.id}&limit=1`);
    expect(first.body.data).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await get(
      t.operatorKey,
      `/admin/cards/search?q=${user.id}&limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    expect(second.body.data).toHaveLength(1);
    expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
  });

  it('answers 400 with the error shape for every bad parameter, 403 to an app key', async () => {
    for (const qs of [
      'status=melted',
      'region=California',
      'limit=0',
      'limit=abc',
      'cursor=not-a-cursor',
      `q=${'x'.repeat(201)}`,
      'q=4242424242424242',
      'q=4242%204242%204242%204242',
      'q=4242-4242-4242-4242',
      'q=pan%204242424242424242%20please',
      'q=%00',
    ]) {
      const res = await get(t.operatorKey, `/admin/cards/search?${qs}`);
      expect({ qs, status: res.status }).toEqual({ qs, status: 400 });
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(typeof res.body.error.message).toBe('string');
    }
    // Digits inside an identifier are not a card number: a hex partner card id stays searchable.
    for (const id of ['sbc_123456789012345678901234', 'ic_1234567890123456', 'a123456789012345b']) {
      expect((await get(t.operatorKey, `/admin/cards/search?q=${id}`)).status).toBe(200);
    }
    const full = await get(t.operatorKey, '/admin/cards/search?q=4242424242424242');
    expect(JSON.stringify(full.body)).not.toContain('4242424242424242');
    const app = await get(t.appKey, '/admin/cards/search?q=1234');
    expect(app.status).toBe(403);
    expect(app.body.error.code).toBe('FORBIDDEN');
  });
});

describe('a card as the console reads it', () => {
  let approvedTxn: string;
  beforeAll(async () => {
    const ok = await authorize(t, card.partnerCardId, 1_200);
    expect(ok.approved).toBe(true);
    approvedTxn = ok.transactionId;
    const declined = await authorize(t, card.partnerCardId, 9_000);
    expect(declined).toMatchObject({ approved: false, declineCode: 'EXCEEDS_PER_AUTHORIZATION_LIMIT' });
    const cleared = await sendEvent(h, t, 'transaction.cleared', {
      transactionId: approvedTxn,
      cardId: card.partnerCardId,
      amount: 1_200,
      currency: 'USD',
    });
    expect(cleared.status).toBe(200);
    await eventually(async () => {
      const res = await get(t.operatorKey, `/admin/cards/${card.id}/transactions`);
      // The decline's row may be written after the partner had its answer.
      return (
        res.body.data.some(
          (x: any) => x.partnerTransactionId === approvedTxn && x.capturedAmount === 1_200,
        ) && res.body.data.some((x: any) => x.status === 'declined')
      );
    });
  });

  it('GET /admin/cards/:id/transactions lists its transactions; another tenant gets 404', async () => {
    const res = await get(t.operatorKey, `/admin/cards/${card.id}/transactions`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          partnerTransactionId: approvedTxn,
          status: 'closed',
          capturedAmount: 1_200,
        }),
        expect.objectContaining({ status: 'declined', declineCode: 'EXCEEDS_PER_AUTHORIZATION_LIMIT' }),
      ]),
    );
    const foreign = await get(other.operatorKey, `/admin/cards/${card.id}/transactions`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    expect((await get(t.operatorKey, `/admin/cards/${card.id}/transactions?limit=500`)).status).toBe(400);
    expect((await get(t.operatorKey, '/admin/cards/card_nope/transactions')).status).toBe(404);
  });

  it('GET /admin/users/:id shows the card holder; another tenant gets 404', async () => {
    const res = await get(t.operatorKey, `/admin/users/${user.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, externalId: user.externalId, status: 'active' });
    expect(res.body.cards).toBeGreaterThanOrEqual(1);
    expect((await get(other.operatorKey, `/admin/users/${user.id}`)).status).toBe(404);
    expect((await get(t.operatorKey, '/admin/users/../etc')).status).toBe(404);
  });

  it('GET /admin/stats/authorizations counts the card’s and the tenant’s authorizations per hour by result', async () => {
    const res = await get(t.operatorKey, `/admin/stats/authorizations?cardId=${card.id}&hours=6`);
    expect(res.status).toBe(200);
    expect(res.body.buckets).toHaveLength(6);
    expect(res.body.totals).toEqual({ approved: 1, declined: 1 });
    expect(res.body.declineReasons).toEqual([{ code: 'EXCEEDS_PER_AUTHORIZATION_LIMIT', count: 1 }]);
    const last = res.body.buckets[res.body.buckets.length - 1];
    expect(last).toMatchObject({ approved: 1, declined: 1 });
    expect(Date.parse(last.hour)).toBeLessThanOrEqual(Date.now());
    const tenantWide = await get(t.operatorKey, '/admin/stats/authorizations');
    expect(tenantWide.body.hours).toBe(24);
    expect(tenantWide.body.totals.approved).toBeGreaterThanOrEqual(1);
    // The other tenant's figures do not include this one's.
    expect((await get(other.operatorKey, '/admin/stats/authorizations')).body.totals).toEqual({
      approved: 0,
      declined: 0,
    });
    expect((await get(other.operatorKey, `/admin/stats/authorizations?cardId=${card.id}`)).status).toBe(404);
    for (const qs of ['hours=0', 'hours=abc', 'hours=100000', 'cardId=x%00']) {
      const bad = await get(t.operatorKey, `/admin/stats/authorizations?${qs}`);
      expect({ qs, status: bad.status, code: bad.body.error?.code }).toEqual({
        qs,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    expect((await get(t.operatorKey, '/admin/stats/authorizations?cardId=nonsense')).status).toBe(404);
  });

  it('GET /admin/stats/overview counts cards by status and the queues', async () => {
    const res = await get(t.operatorKey, '/admin/stats/overview');
    expect(res.status).toBe(200);
    expect(res.body.cardsByStatus.active).toBeGreaterThanOrEqual(1);
    expect(res.body).toMatchObject({ pendingApprovals: 0, openDiscrepancies: 0 });
    expect(res.body.deliveriesLastDay.applied).toBeGreaterThanOrEqual(3);
    expect((await get(other.operatorKey, '/admin/stats/overview')).body.deliveriesLastDay.applied ?? 0).toBe(
      0,
    );
  });
});

describe('GET /admin/approvals', () => {
  it('lists the actions waiting for an approver with why, and moves them to decided once decided', async () => {
    const policy = (await get(t.operatorKey, '/admin/policy')).body.policy;
    const above = policy.overrideApprovalThreshold + 1;
    const requested = await h.request('POST', `/admin/cards/${card.id}/actions`, {
      key: t.operatorKey,
      body: {
        type: 'set_spending_limits',
        params: { spendingLimits: [{ amount: above, interval: 'all_time' }] },
        reason: 'customer asked for more',
      },
    });
    expect(requested.status).toBe(201);
    expect(requested.body.status).toBe('pending_approval');
    // A freeze needs no approver: it is applied, and never in the queue.
    const freeze = await h.request('POST', `/admin/cards/${card.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'freeze', reason: 'checking' },
    });
    expect(freeze.body.status).toBe('applied');
    await h.request('POST', `/admin/cards/${card.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'unfreeze', reason: 'checked' },
    });

    const pending = await get(t.operatorKey, '/admin/approvals');
    expect(pending.status).toBe(200);
    expect(pending.body.data.map((a: any) => a.id)).toEqual([requested.body.id]);
    expect(pending.body.data[0]).toMatchObject({
      status: 'pending_approval',
      requestedBy: requested.body.requestedBy,
      reason: 'customer asked for more',
      approvalReasons: requested.body.approvalReasons,
      card: { id: card.id, last4: card.last4, currency: 'USD' },
      before: { status: 'active' },
    });
    expect(pending.body.data[0].approvalReasons.join(' ')).toContain('approval threshold');
    expect((await get(t.operatorKey, '/admin/stats/overview')).body.pendingApprovals).toBe(1);
    expect((await get(other.operatorKey, '/admin/approvals')).body.data).toEqual([]);

    const approved = await h.request('POST', `/admin/actions/${requested.body.id}/approve`, {
      key: t.approverKey,
      body: { note: 'ok' },
    });
    expect(approved.status).toBe(200);
    expect((await get(t.operatorKey, '/admin/approvals')).body.data).toEqual([]);
    const decided = await get(t.operatorKey, '/admin/approvals?status=decided');
    expect(decided.body.data.map((a: any) => [a.id, a.status])).toEqual([[requested.body.id, 'applied']]);
    expect((await get(t.operatorKey, '/admin/approvals?status=all')).body.data).toHaveLength(1);
    for (const qs of ['status=maybe', 'limit=1000', 'cursor=%%%']) {
      const bad = await get(t.operatorKey, `/admin/approvals?${qs}`);
      expect({ qs, status: bad.status }).toEqual({ qs, status: 400 });
    }
    expect((await get(t.appKey, '/admin/approvals')).status).toBe(403);
  });
});

describe('policy history and a change’s approval need', () => {
  it('lists versions newest first with what each changed, page by page', async () => {
    const p = await newTenant(h);
    const patch = async (body: Record<string, unknown>, key = p.operatorKey) =>
      h.request('PATCH', '/admin/policy', { key, body });
    expect((await patch({ maxCardSpendLimit: 400_000, reason: 'lower cap' })).status).toBe(200);
    expect((await patch({ blockedMccs: ['7995'], weeklyCardLimitPerUser: 3 })).status).toBe(200);
    const res = await get(p.operatorKey, '/admin/policy/versions');
    expect(res.status).toBe(200);
    expect(res.body.inForce).toBe(3);
    expect(res.body.data.map((v: any) => v.version)).toEqual([3, 2, 1]);
    expect(res.body.data[0]).toMatchObject({ inForce: true });
    expect(res.body.data[0].changes).toEqual([
      { field: 'blockedMccs', from: [], to: ['7995'] },
      { field: 'weeklyCardLimitPerUser', from: 10, to: 3 },
    ]);
    expect(res.body.data[1]).toMatchObject({
      inForce: false,
      reason: 'lower cap',
      changes: [{ field: 'maxCardSpendLimit', from: 500_000, to: 400_000 }],
    });
    expect(res.body.data[1].createdBy).toMatch(/^key_/);
    // The first version changed everything from nothing.
    expect(res.body.data[2].changes.length).toBeGreaterThan(5);

    const page1 = await get(p.operatorKey, '/admin/policy/versions?limit=1');
    expect(page1.body.data.map((v: any) => v.version)).toEqual([3]);
    expect(page1.body.data[0].changes).toEqual(res.body.data[0].changes);
    const page2 = await get(p.operatorKey, `/admin/policy/versions?limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body.data.map((v: any) => v.version)).toEqual([2]);
    expect(page2.body.data[0].changes).toEqual([{ field: 'maxCardSpendLimit', from: 500_000, to: 400_000 }]);
    for (const qs of ['cursor=abc', 'cursor=0', 'limit=-1']) {
      const bad = await get(p.operatorKey, `/admin/policy/versions?${qs}`);
      expect({ qs, status: bad.status }).toEqual({ qs, status: 400 });
      expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    }
    // Another tenant sees only its own history.
    expect((await get(t.operatorKey, '/admin/policy/versions')).body.data.map((v: any) => v.version)).toEqual(
      [1],
    );
    expect((await get(p.appKey, '/admin/policy/versions')).status).toBe(403);
  });

  it('POST /admin/policy/preview says which changes PATCH /admin/policy will send for approval', async () => {
    const p = await newTenant(h);
    const policy = (await get(p.operatorKey, '/admin/policy')).body.policy;
    const preview = (key: string, body: Record<string, unknown>) =>
      h.request('POST', '/admin/policy/preview', { key, body });
    const raise = { maxCardSpendLimit: policy.overrideApprovalThreshold + policy.maxCardSpendLimit + 1 };

    const asOperator = await preview(p.operatorKey, raise);
    expect(asOperator.status).toBe(200);
    expect(asOperator.body).toMatchObject({
      needsApprover: true,
      allowed: true,
      raised: ['maxCardSpendLimit'],
      approvalReasons: [expect.stringMatching(/largest card limit raised/)],
      changes: [{ field: 'maxCardSpendLimit', from: policy.maxCardSpendLimit, to: raise.maxCardSpendLimit }],
    });
    expect((await preview(p.approverKey, raise)).body).toMatchObject({ needsApprover: true, allowed: true });
    const pending = await h.request('PATCH', '/admin/policy', {
      key: p.operatorKey,
      body: { ...raise, reason: 'bigger cards' },
    });
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ status: 'pending_approval', type: 'change_policy' });
    const queue = (await get(p.operatorKey, '/admin/approvals')).body.data;
    expect(queue.map((a: any) => [a.id, a.approvalReasons])).toEqual([
      [pending.body.id, [expect.stringMatching(/largest card limit raised/)]],
    ]);

    const lower = { maxCardSpendLimit: policy.maxCardSpendLimit - 1, blockedMccs: ['7995'] };
    expect((await preview(p.operatorKey, lower)).body).toMatchObject({ needsApprover: false, allowed: true });
    expect((await h.request('PATCH', '/admin/policy', { key: p.operatorKey, body: lower })).status).toBe(200);
    // Nothing was written by the previews, nor by the pending change: the tightening PATCH alone.
    expect((await get(p.operatorKey, '/admin/policy')).body.version).toBe(2);

    for (const body of [{ holdExpiryDays: 0 }, { nope: 1 }, { maxCardSpendLimit: 1.5 }]) {
      const bad = await preview(p.operatorKey, body);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    }
    const raw = await h.request('POST', '/admin/policy/preview', {
      key: p.operatorKey,
      rawBody: '{"holdExpiryDays":',
      headers: { 'content-type': 'application/json' },
    });
    expect(raw.status).toBe(400);
    expect((await preview(p.appKey, lower)).status).toBe(403);
  });
});

describe('the console’s static files', () => {
  let dir: string;
  let base: string;
  let server: http.Server;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-dist-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(
      path.join(dir, 'index.html'),
      '<!doctype html><script type="module" src="/console/assets/app-abc.js"></script>',
    );
    fs.writeFileSync(path.join(dir, 'assets', 'app-abc.js'), 'console.log(1)');
    const app = new Koa<AppState>();
    app.use(consoleRouter({ knex: h.knex } as unknown as ApiDeps, { dir }).routes());
    server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page for every console path with a strict CSP and nosniff', async () => {
    for (const p of ['/console', '/console/', '/console/cards/card_abc', '/console/approvals']) {
      const res = await fetch(`${base}${p}`);
      expect({ p, status: res.status }).toEqual({ p, status: 200 });
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('app-abc.js');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
  });

  it('serves built assets by name only, cached by their content hash', async () => {
    const js = await fetch(`${base}/console/assets/app-abc.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    const etag = js.headers.get('etag')!;
    expect(
      (await fetch(`${base}/console/assets/app-abc.js`, { headers: { 'if-none-match': etag } })).status,
    ).toBe(304);
    expect((await fetch(`${base}/console/assets/gone.js`)).status).toBe(404);
    // No path reaches the file system: traversal gets the page or a 404, never the file.
    for (const p of [
      '/console/..%2F..%2Fpackage.json',
      '/console/assets/..%2F..%2Findex.html',
      '/console/%2e%2e/x.json',
    ]) {
      const res = await fetch(`${base}${p}`);
      const text = await res.text();
      expect(text).not.toContain('"dependencies"');
      expect([200, 404]).toContain(res.status);
    }
  });

  it('says the console is not built, instead of a blank page, when it is not', async () => {
    fs.renameSync(path.join(dir, 'index.html'), path.join(dir, 'index.off'));
    try {
      const res = await fetch(`${base}/console`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run console:build');
    } finally {
      fs.renameSync(path.join(dir, 'index.off'), path.join(dir, 'index.html'));
    }
  });
});
