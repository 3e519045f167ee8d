/**
 * Reconciliation of a Stripe tenant: the reconciliation workflow reads the Stripe adapter's
 * listings (cards, authorizations, transactions, paged with `starting_after`) into the same
 * staging and SQL comparison as the sandbox's, and finds the captures Stripe reports that the
 * platform never received.
 *
 * stripe-mock keeps no state and ignores list filters (partners.md §1), so what Stripe "reports"
 * is served by the recording proxy in front of it: list pages built from objects typed with the
 * SDK's types, filtered and paged as Stripe's API does. Everything else (the card's creation) goes
 * through to stripe-mock. The test asserts on what the platform asked for and on its own books.
 *
 * A Lithic tenant goes the same way, its listings read through the `lithic` SDK from the fake of
 * Lithic's API.
 */
import crypto from 'node:crypto';
import { startHarness, type Harness } from './helpers/harness';
import { cardBody, uniq } from './helpers/fixtures';
import { partnerTenant, type PartnerTenant } from './helpers/partner-tenant';
import {
  pendingRequest,
  requestHistory,
  stripeAuthorization,
  stripeBody,
  stripeCard,
  stripeEvent,
  stripeSignature,
  stripeTransaction,
} from './helpers/stripe-fixtures';
import {
  startRecordingProxy,
  startTestStripeMock,
  stripeListing,
  type RecordingProxy,
} from './helpers/stripe-mock';
import { startLithicFake, type LithicFake } from './helpers/lithic-fake';
import { lithicEvent, lithicTransaction } from './helpers/lithic-fixtures';
import { eventually } from './helpers/wait';
import type Stripe from 'stripe';
import type { StripeMockHandle } from '../src/infra/stripe-mock';
import { describeReconciliationSchedule } from '../src/reconciliation/runs';

jest.setTimeout(120_000);

let h: Harness;
let mock: StripeMockHandle;
let proxy: RecordingProxy;
let lithic: LithicFake;

beforeAll(async () => {
  // Pages of one record and one slice: the transaction listing takes two pages.
  [h, mock, lithic] = await Promise.all([
    startHarness({ reconciliation: { pageSize: 1, slices: 1 } }),
    startTestStripeMock(),
    startLithicFake(),
  ]);
  proxy = await startRecordingProxy(mock.url);
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await mock?.stop();
  await lithic?.close();
  await h?.stop();
});

async function ok<T = any>(p: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Sends a Stripe event to the subscription's URL, signed with the SDK. */
async function deliver(p: PartnerTenant, event: object) {
  const raw = stripeBody(event);
  return h.request('POST', `/webhooks/stripe/${p.subscriptionId}`, {
    rawBody: raw,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': stripeSignature(raw, p.signingSecret),
    },
  });
}

async function reconcile(p: PartnerTenant, body: Record<string, unknown>, partner = 'stripe') {
  const started = await ok(
    h.request('POST', '/admin/reconciliations', {
      key: p.tenant.operatorKey,
      body: { partner, ...body },
    }),
    202,
  );
  return eventually(async () => {
    const run = await ok(
      h.request('GET', `/admin/reconciliations/${started.id}`, { key: p.tenant.operatorKey }),
    );
    if (run.status === 'failed') throw new Error(`run failed: ${run.error}`);
    return run.status === 'completed' ? run : null;
  }, 60_000);
}

it('finds the captures Stripe reports and the platform never received, and heals them', async () => {
  const p = await partnerTenant(h, 'stripe', {
    apiKey: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
    apiBaseUrl: proxy.url,
  });
  const t = p.tenant;
  // Choosing Stripe for new cards put the tenant's reconciliation schedule with Stripe in place.
  const schedule = await describeReconciliationSchedule(h.temporal, t.id, 'stripe');
  expect(schedule?.memo).toEqual({ tenantId: t.id, partner: 'stripe' });
  const u = await ok(
    h.request('POST', '/v1/users', {
      key: t.appKey,
      body: {
        externalId: uniq('ext'),
        name: 'Jenny Rosen',
        region: 'US-CA',
        billingAddress: {
          line1: '1 Main St',
          city: 'San Francisco',
          state: 'CA',
          postalCode: '94107',
          country: 'US',
        },
      },
    }),
    201,
  );
  const card = await ok(
    h.request('POST', '/v1/cards', {
      key: t.appKey,
      body: cardBody(u.id, { controls: { spendingLimits: [{ amount: 100_000, interval: 'all_time' }] } }),
      headers: { 'idempotency-key': uniq('idem') },
    }),
    201,
  );
  const nowS = Math.floor(Date.now() / 1000);
  const atStripe = stripeCard({ id: card.partnerCardId, status: 'active', created: nowS - 900 });

  // Stripe asks; the platform approves 25.00. The capture that follows never reaches the platform.
  const authorizationId = `iauth_${uniq('a').replace('-', '')}`;
  const asked = stripeAuthorization({
    id: authorizationId,
    card: atStripe,
    created: nowS - 600,
    pending_request: pendingRequest(2500),
  });
  const answer = await deliver(
    p,
    stripeEvent('issuing_authorization.request', asked, { created: nowS - 600 }),
  );
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ approved: true });
  const transactions = () =>
    ok(h.request('GET', `/v1/cards/${card.id}/transactions`, { key: t.appKey })).then((b) => b.data as any[]);
  await eventually(async () =>
    (await transactions()).find((x) => x.partnerTransactionId === authorizationId),
  );

  // What Stripe's listings report: the card, the authorization captured and closed, its capture,
  // and a force capture with no authorization at all.
  const captureId = `ipi_${uniq('c').replace('-', '')}`;
  const forceId = `ipi_${uniq('f').replace('-', '')}`;
  const closed: Stripe.Issuing.Authorization = {
    ...asked,
    amount: 2500,
    approved: true,
    status: 'closed',
    pending_request: null,
    request_history: [requestHistory(2500, true, 'webhook_approved')],
  };
  const captures = [
    stripeTransaction({
      id: captureId,
      authorization: authorizationId,
      card: card.partnerCardId,
      amount: -2500,
      created: nowS - 300,
    }),
    stripeTransaction({
      id: forceId,
      authorization: null,
      card: card.partnerCardId,
      amount: -1200,
      created: nowS - 200,
    }),
  ];
  proxy.stub(stripeListing('/v1/issuing/cards', () => [atStripe]));
  proxy.stub(stripeListing('/v1/issuing/authorizations', () => [closed]));
  proxy.stub(stripeListing('/v1/issuing/transactions', () => captures));

  const window = { from: new Date((nowS - 3600) * 1000).toISOString(), to: new Date().toISOString() };
  const found = await reconcile(p, { ...window, autoHeal: false });
  const byTransaction = Object.fromEntries(
    (found.discrepancies as any[]).map((d) => [d.partnerTransactionId ?? d.partnerCardId, d]),
  );
  expect(byTransaction[authorizationId]).toMatchObject({
    category: 'amount_mismatch',
    cardId: card.id,
    status: 'open',
  });
  expect(byTransaction[forceId]).toMatchObject({ category: 'missing_internal_transaction', status: 'open' });
  expect(Object.keys(byTransaction).sort()).toEqual([authorizationId, forceId].sort());

  // The listings were read through the SDK: a created window in seconds, Stripe's own paging.
  const pages = proxy.callsTo('GET', '/v1/issuing/transactions');
  expect(pages.length).toBeGreaterThanOrEqual(2);
  expect(pages[0]!.query).toMatchObject({ limit: '1' });
  expect(pages[0]!.query['created[gte]']).toMatch(/^[0-9]+$/);
  expect(pages[0]!.query['created[lt]']).toMatch(/^[0-9]+$/);
  expect(pages[0]!.query.starting_after).toBeUndefined();
  expect(pages[1]!.query.starting_after).toBe(captureId);
  expect(proxy.callsTo('GET', '/v1/issuing/authorizations').length).toBeGreaterThanOrEqual(1);
  expect(proxy.callsTo('GET', '/v1/issuing/cards').length).toBeGreaterThanOrEqual(1);
  for (const c of [...pages, ...proxy.callsTo('GET', '/v1/issuing/cards')]) expect(c.authorized).toBe(true);

  // Healing: the capture of the platform's own authorization is applied to the card under the
  // id of Stripe's transaction (so its webhook, arriving late, is a duplicate).
  const healed = await reconcile(p, { ...window, autoHeal: true });
  expect(healed.counts).toBeDefined();
  const tx = await eventually(async () => {
    const x = (await transactions()).find((r) => r.partnerTransactionId === authorizationId);
    return x?.capturedAmount === 2500 ? x : null;
  });
  expect(tx).toMatchObject({ authorizedAmount: 2500, capturedAmount: 2500 });
  const late = await deliver(
    p,
    stripeEvent('issuing_transaction.created', captures[0]!, { created: nowS - 300 }),
  );
  expect(late.status).toBe(200);
  await eventually(async () => {
    const outcome = await h.knex('webhook_outcomes').where({ tenantId: t.id, eventId: captureId }).first();
    return outcome?.outcome === 'duplicate';
  });
  expect((await transactions()).find((r) => r.partnerTransactionId === authorizationId).capturedAmount).toBe(
    2500,
  );
});

it('reads a Lithic tenant’s listings through the SDK and finds the transaction it never heard of', async () => {
  const p = await partnerTenant(h, 'lithic', { apiKey: lithic.apiKey, apiBaseUrl: lithic.url });
  const t = p.tenant;
  const u = await ok(
    h.request('POST', '/v1/users', {
      key: t.appKey,
      body: { externalId: uniq('ext'), name: 'Jenny Rosen', region: 'US-CA' },
    }),
    201,
  );
  const card = await ok(
    h.request('POST', '/v1/cards', {
      key: t.appKey,
      body: cardBody(u.id),
      headers: { 'idempotency-key': uniq('idem') },
    }),
    201,
  );
  const at = (agoMs: number) => new Date(Date.now() - agoMs).toISOString();
  const tx = lithicTransaction(
    [
      lithicEvent('AUTHORIZATION', 1_000, { created: at(600_000) }),
      lithicEvent('CLEARING', 1_000, { created: at(300_000) }),
    ],
    {
      token: crypto.randomUUID(),
      card_token: card.partnerCardId,
      created: at(600_000),
      status: 'SETTLED',
    },
  );
  lithic.addTransaction(tx);
  const before = lithic.calls.length;

  const run = await reconcile(
    p,
    { from: at(3_600_000), to: new Date().toISOString(), autoHeal: false },
    'lithic',
  );
  expect((run.discrepancies as any[]).map((d) => [d.category, d.partnerTransactionId])).toEqual([
    ['missing_internal_transaction', tx.token],
  ]);
  const listings = lithic.calls.slice(before).filter((c) => c.method === 'GET');
  expect(listings.some((c) => c.path === '/v1/cards')).toBe(true);
  expect(listings.filter((c) => c.path === '/v1/transactions').map((c) => c.query.page_size)).toContain('1');
});
