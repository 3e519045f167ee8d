import { Worker } from '@temporalio/worker';
import { cardWorkflowId } from '../src/domain/ids';
import { CardStatusSA, RegionSA, TenantIdSA, UserIdSA } from '../src/workflows/search-attributes';
import { getCardQuery } from '../src/workflows/messages';
import { revealCardSecret } from '../src/vault/card-vault';
import { useHarness } from './helpers/harness';
import { cardBody, issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';

const h = useHarness();
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await newTenant(h);
});

describe('issuing a card over HTTP', () => {
  it('creates the workflow with search attributes, the card row, a card event and a vault entry, and returns only last4', async () => {
    const user = await newUser(h, tenant, 'US-CA');
    const res = await issueCard(h, tenant, user.id);
    expect(res.status).toBe(201);
    const card = res.body;
    expect(card).toMatchObject({ userId: user.id, status: 'active', currency: 'USD', partner: 'sandbox' });
    expect(card.id).toMatch(/^card_/);
    expect(card.last4).toMatch(/^[0-9]{4}$/);
    expect(card.balances).toEqual({ held: 0, captured: 0, refunded: 0, available: { all_time: 20_000 } });

    // The response carries no full number (checked against the vault, without printing it).
    const secret = await revealCardSecret(h.knex, h.vault, tenant.id, card.id);
    expect(secret).not.toBeNull();
    expect(secret!.number.endsWith(card.last4)).toBe(true);
    expect(JSON.stringify(res.body).includes(secret!.number)).toBe(false);
    expect(/[0-9]{12,19}/.test(JSON.stringify(res.body))).toBe(false);

    // Workflow, with its search attributes kept current.
    const handle = h.temporal.workflow.getHandle(cardWorkflowId(tenant.id, card.id));
    const desc = await handle.describe();
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.typedSearchAttributes.get(TenantIdSA)).toBe(tenant.id);
    expect(desc.typedSearchAttributes.get(UserIdSA)).toBe(user.id);
    expect(desc.typedSearchAttributes.get(CardStatusSA)).toBe('active');
    expect(desc.typedSearchAttributes.get(RegionSA)).toBe('US-CA');
    expect(await handle.query(getCardQuery)).toMatchObject({ status: 'active', cardId: card.id });

    // Rows: the card (last4 and vault reference only), its events, its vault entry.
    const row = await h.knex('cards').where({ id: card.id }).first();
    expect(row).toMatchObject({
      tenantId: tenant.id,
      status: 'active',
      last4: card.last4,
      workflowId: handle.workflowId,
    });
    expect(row.vaultEntryId).toMatch(/^vlt_/);
    const events = await h.knex('card_events').where({ cardId: card.id }).orderBy('id');
    expect(events.map((e) => [e.fromStatus, e.toStatus, e.actorType])).toEqual([
      [null, 'pending', 'app'],
      ['pending', 'active', 'system'],
    ]);
    const vaultRows = await h.knex('vault_entries').where({ cardId: card.id });
    expect(vaultRows).toHaveLength(1);
    expect(vaultRows[0].keyId).toBe('test1');

    // The workflow history carries the vault reference only, never the number or CVC.
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history.includes(secret!.number)).toBe(false);

    // Its history replays deterministically against the current workflow code.
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: h.stack.workflowBundlePath } },
      await handle.fetchHistory(),
      handle.workflowId,
    );
  });

  it('returns the same card for the same Idempotency-Key and body, and 409 for another body', async () => {
    const user = await newUser(h, tenant);
    const key = uniq('idem');
    const first = await h.request('POST', '/v1/cards', {
      key: tenant.appKey,
      body: cardBody(user.id),
      headers: { 'idempotency-key': key },
    });
    const again = await h.request('POST', '/v1/cards', {
      key: tenant.appKey,
      body: cardBody(user.id),
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await h.request('POST', '/v1/cards', {
      key: tenant.appKey,
      body: cardBody(user.id, { metadata: { orderRef: 'different' } }),
      headers: { 'idempotency-key': key },
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await h.knex('cards').where({ userId: user.id }).count<{ count: number }[]>('* as count')).toEqual(
      [{ count: 1 }],
    );
  });

  it('gives concurrent requests with one Idempotency-Key one card', async () => {
    const user = await newUser(h, tenant);
    const key = uniq('idem');
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        h.request('POST', '/v1/cards', {
          key: tenant.appKey,
          body: cardBody(user.id),
          headers: { 'idempotency-key': key },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const [{ count }] = await h
      .knex('cards')
      .where({ userId: user.id })
      .count<{ count: string }[]>('* as count');
    expect(Number(count)).toBe(1);
  });

  it('requires an Idempotency-Key on POST /v1/cards', async () => {
    const user = await newUser(h, tenant);
    const res = await h.request('POST', '/v1/cards', { key: tenant.appKey, body: cardBody(user.id) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
  });

  it('issues exactly 5 of 20 concurrent requests for one user with a weekly cap of 5', async () => {
    const capped = await newTenant(h, { weeklyCardLimitPerUser: 5 });
    const user = await newUser(h, capped);
    const results = await Promise.all(Array.from({ length: 20 }, () => issueCard(h, capped, user.id)));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 422);
    expect(created).toHaveLength(5);
    expect(refused).toHaveLength(15);
    for (const r of refused) expect(r.body.error.code).toBe('USER_WEEKLY_CARD_LIMIT_REACHED');
    const rows = await h.knex('cards').where({ tenantId: capped.id, userId: user.id });
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.status === 'active')).toBe(true);
  });

  it('refuses a user outside the program regions and a suspended user', async () => {
    const euUser = await newUser(h, tenant, 'DE');
    const res = await issueCard(h, tenant, euUser.id);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('REGION_NOT_ALLOWED');

    const user = await newUser(h, tenant);
    await h.knex('users').where({ id: user.id }).update({ status: 'suspended' });
    const suspended = await issueCard(h, tenant, user.id);
    expect(suspended.status).toBe(422);
    expect(suspended.body.error.code).toBe('USER_NOT_ACTIVE');
  });

  it('refuses a spending limit above the program maximum', async () => {
    const user = await newUser(h, tenant);
    const res = await issueCard(h, tenant, user.id, {
      controls: { spendingLimits: [{ amount: 10_000_000, interval: 'monthly' }] },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('SPEND_LIMIT_ABOVE_PROGRAM_MAX');
  });

  it('lists cards by user and status with cursor pagination', async () => {
    const user = await newUser(h, tenant);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await issueCard(h, tenant, user.id)).body.id);
    const page1 = await h.request('GET', `/v1/cards?userId=${user.id}&limit=2`, { key: tenant.appKey });
    expect(page1.status).toBe(200);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await h.request(
      'GET',
      `/v1/cards?userId=${user.id}&limit=2&cursor=${page1.body.nextCursor}`,
      { key: tenant.appKey },
    );
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.nextCursor).toBeNull();
    const seen = [...page1.body.data, ...page2.body.data].map((c: { id: string }) => c.id).sort();
    expect(seen).toEqual([...ids].sort());
    const none = await h.request('GET', `/v1/cards?userId=${user.id}&status=frozen`, { key: tenant.appKey });
    expect(none.body.data).toEqual([]);
  });
});
