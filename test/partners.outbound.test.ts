/**
 * Issuance and status changes at the partner the program's policy names, end to end: the API, the
 * card workflow on a real Temporal, its activities opening the tenant's subscription credentials,
 * and the partner's SDK talking to stripe-mock (behind a recording proxy) or to the Lithic fake.
 *
 * stripe-mock keeps no state and honours no idempotency key (partners.md §1): these tests assert on
 * what the platform SENT, never on data read back from the mock. The Lithic fake keeps state, so
 * its cards are read back.
 */
import Stripe from 'stripe';
import { cardWorkflowId } from '../src/domain/ids';
import type { StripeMockHandle } from '../src/infra/stripe-mock';
import { derivedId } from '../src/lib/ids';
import { startHarness, type Harness } from './helpers/harness';
import { cardBody, newTenant, uniq, type TestTenant } from './helpers/fixtures';
import { partnerTenant as connectPartner } from './helpers/partner-tenant';
import { startLithicFake, type LithicFake } from './helpers/lithic-fake';
import { startRecordingProxy, startTestStripeMock, type RecordingProxy } from './helpers/stripe-mock';
import { eventually } from './helpers/wait';

jest.setTimeout(120_000);

const STRIPE_TEST_KEY = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const billingAddress = {
  line1: '123 Fake St',
  city: 'Beverly Hills',
  state: 'CA',
  postalCode: '90210',
  country: 'US',
};

let h: Harness;
let mock: StripeMockHandle;
let proxy: RecordingProxy;
let lithic: LithicFake;

beforeAll(async () => {
  [h, mock, lithic] = await Promise.all([startHarness(), startTestStripeMock(), startLithicFake()]);
  proxy = await startRecordingProxy(mock.url);
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await mock?.stop();
  await lithic?.close();
  await h?.stop();
});

beforeEach(() => {
  proxy.clear();
  proxy.unstub();
});

async function ok<T = any>(p: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

const partnerTenant = async (partner: string, credentials: Parameters<typeof connectPartner>[2]) =>
  (await connectPartner(h, partner, credentials)).tenant;

const stripeTenant = () =>
  partnerTenant('stripe', {
    apiKey: STRIPE_TEST_KEY,
    apiBaseUrl: proxy.url,
  });

async function user(t: TestTenant, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
  return ok(
    h.request('POST', '/v1/users', {
      key: t.appKey,
      body: {
        externalId: uniq('ext'),
        name: 'Jenny Rosen',
        email: 'jenny@example.com',
        region: 'US-CA',
        ...extra,
      },
    }),
    201,
  );
}

const issue = (t: TestTenant, userId: string, idempotencyKey = uniq('idem')) =>
  h.request('POST', '/v1/cards', {
    key: t.appKey,
    body: cardBody(userId),
    headers: { 'idempotency-key': idempotencyKey },
  });

const change = (
  t: TestTenant,
  cardId: string,
  transition: 'freeze' | 'unfreeze' | 'cancel',
  body: { reason?: string } = {},
) => ok(h.request('POST', `/v1/cards/${cardId}/${transition}`, { key: t.appKey, body }));

describe('issuance at Stripe (stripe-mock)', () => {
  it('creates the cardholder once per user and each card under a deterministic idempotency key', async () => {
    const t = await stripeTenant();
    const u = await user(t, { billingAddress });
    const card = await ok(issue(t, u.id), 201);
    expect(card).toMatchObject({ status: 'active', partner: 'stripe' });

    const [holder, ...moreHolders] = proxy.callsTo('POST', '/v1/issuing/cardholders');
    expect(moreHolders).toEqual([]);
    expect(holder).toMatchObject({
      idempotencyKey: `vcn:cardholder:${u.id}`,
      stripeVersion: Stripe.API_VERSION,
      authorized: true,
      status: 200,
      form: {
        type: 'individual',
        name: 'Jenny Rosen',
        email: 'jenny@example.com',
        'billing[address][line1]': '123 Fake St',
        'billing[address][city]': 'Beverly Hills',
        'billing[address][state]': 'CA',
        'billing[address][postal_code]': '90210',
        'billing[address][country]': 'US',
        'metadata[vcn_user_id]': u.id,
        'metadata[vcn_tenant_id]': t.id,
      },
    });
    const [create] = proxy.callsTo('POST', '/v1/issuing/cards');
    expect(create).toMatchObject({
      idempotencyKey: `vcn:card:${card.id}`,
      status: 200,
      form: {
        currency: 'usd',
        type: 'virtual',
        status: 'active',
        'metadata[vcn_card_id]': card.id,
        'metadata[vcn_tenant_id]': t.id,
      },
    });
    expect(create!.form.cardholder).toMatch(/^ich_/);
    // The number is retrieved (expanded) for the vault only, from the card the create answered with.
    const [retrieve] = proxy.callsTo('GET', `/v1/issuing/cards/${card.partnerCardId}`);
    expect(retrieve?.query).toMatchObject({ 'expand[0]': 'number', 'expand[1]': 'cvc' });

    // The user's cardholder is kept: their next card goes under it, with no new cardholder.
    const stored = await h.knex('users').where({ id: u.id }).first();
    expect(stored.partnerCardholders).toEqual({ stripe: create!.form.cardholder });
    proxy.clear();
    const second = await ok(issue(t, u.id), 201);
    expect(proxy.callsTo('POST', '/v1/issuing/cardholders')).toEqual([]);
    expect(proxy.callsTo('POST', '/v1/issuing/cards')).toEqual([
      expect.objectContaining({
        idempotencyKey: `vcn:card:${second.id}`,
        form: expect.objectContaining({ cardholder: create!.form.cardholder }),
      }),
    ]);
  });

  it('sends the same keys and bodies again when Stripe fails and the activity retries', async () => {
    const t = await stripeTenant();
    const u = await user(t, { billingAddress });
    // Four 500s: the SDK's own three attempts, then the first of Temporal's retry of the activity.
    let failures = 4;
    proxy.stub((call) =>
      call.method === 'POST' && call.path === '/v1/issuing/cards' && failures-- > 0
        ? { status: 500, body: { error: { type: 'api_error', message: 'try again' } } }
        : null,
    );
    const card = await ok(issue(t, u.id), 201);
    expect(card.status).toBe('active');

    const creates = proxy.callsTo('POST', '/v1/issuing/cards');
    expect(creates.map((c) => c.status)).toEqual([500, 500, 500, 500, 200]);
    expect(new Set(creates.map((c) => c.idempotencyKey))).toEqual(new Set([`vcn:card:${card.id}`]));
    expect(new Set(creates.map((c) => JSON.stringify(c.form))).size).toBe(1);
    // The cardholder was kept on the user before the card was asked for: the activity's retry
    // reused it (stripe-mock, honouring no key, would have made another and changed the card's body).
    const holders = proxy.callsTo('POST', '/v1/issuing/cardholders');
    expect(holders.map((c) => [c.idempotencyKey, c.status])).toEqual([[`vcn:cardholder:${u.id}`, 200]]);
    expect(creates[4]!.form.cardholder).toBe(
      (await h.knex('users').where({ id: u.id }).first()).partnerCardholders.stripe,
    );
  });

  it('refuses a user without a billing address before calling Stripe, and issues once one is given', async () => {
    const t = await stripeTenant();
    const u = await user(t);
    const res = await issue(t, u.id);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('USER_BILLING_ADDRESS_REQUIRED');
    expect(proxy.calls).toEqual([]);
    // Given one, the user gets the card, billed there.
    const patched = await ok(
      h.request('PATCH', `/v1/users/${u.id}`, { key: t.appKey, body: { billingAddress } }),
    );
    expect(patched.billingAddress).toEqual(billingAddress);
    const bad = await h.request('PATCH', `/v1/users/${u.id}`, {
      key: t.appKey,
      body: { billingAddress: { ...billingAddress, country: 'USA' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    await ok(issue(t, u.id), 201);
    expect(proxy.callsTo('POST', '/v1/issuing/cardholders')[0]!.form).toMatchObject({
      'billing[address][line1]': '123 Fake St',
      'billing[address][country]': 'US',
    });
  });

  it('fails issuance at once, without retries, when the subscription has no API key', async () => {
    const t = (await connectPartner(h, 'stripe', { apiKey: STRIPE_TEST_KEY, apiBaseUrl: proxy.url })).tenant;
    await h
      .knex('partner_subscriptions')
      .where({ tenantId: t.id, partner: 'stripe' })
      .update({ apiKeyEncrypted: null });
    const u = await user(t, { billingAddress });
    const key = uniq('idem');
    const res = await issue(t, u.id, key);
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('PARTNER_UNAVAILABLE');
    expect(proxy.calls).toEqual([]);
    const cardId = derivedId('card', t.id, key);
    const history = await h.temporal.workflow.getHandle(cardWorkflowId(t.id, cardId)).fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    const failed = history.events!.filter((e) => e.activityTaskFailedEventAttributes);
    expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
    expect(failed[0]!.activityTaskFailedEventAttributes!.failure).toMatchObject({
      message: expect.stringContaining('has no Stripe API key'),
      applicationFailureInfo: { type: 'PartnerConfigError', nonRetryable: true },
    });
    expect((await h.knex('cards').where({ id: cardId }).first()).status).toBe('canceled');
  });

  it('issues with Stripe’s last4 and expiry and invents no number: reveal answers 409 CARD_NUMBER_UNAVAILABLE', async () => {
    const t = await stripeTenant();
    const u = await user(t, { billingAddress });
    const card = await ok(issue(t, u.id), 201);
    // stripe-mock answers the retrieve with number "" (a test key reveals none).
    expect(card.last4).toMatch(/^[0-9]{4}$/);
    expect(card.expMonth).toBeGreaterThanOrEqual(1);
    const row = await h.knex('cards').where({ id: card.id }).first();
    expect(row.vaultEntryId).toBeNull();
    expect(await h.knex('vault_entries').where({ cardId: card.id })).toEqual([]);

    const reveal = await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: t.appKey });
    expect(reveal.status).toBe(409);
    expect(reveal.body.error.code).toBe('CARD_NUMBER_UNAVAILABLE');
    expect(JSON.stringify(reveal.body)).not.toMatch(/[0-9]{12,19}/);
    // A sandbox card still reveals (the negative control: the 409 is about the partner).
    const sandboxTenant = await newTenant(h);
    const su = await user(sandboxTenant);
    const sandboxCard = await ok(issue(sandboxTenant, su.id), 201);
    const revealed = await h.request('POST', `/v1/cards/${sandboxCard.id}/reveal`, {
      key: sandboxTenant.appKey,
    });
    expect(revealed.status).toBe(200);
    expect(revealed.body.number).toMatch(/^[0-9]{16}$/);
  });

  it('freezes as status=inactive, unfreezes as active, cancels as canceled, each under its own key', async () => {
    const t = await stripeTenant();
    const u = await user(t, { billingAddress });
    const card = await ok(issue(t, u.id), 201);
    const path = `/v1/issuing/cards/${card.partnerCardId}`;
    proxy.clear();

    await change(t, card.id, 'freeze');
    await change(t, card.id, 'unfreeze');
    await change(t, card.id, 'cancel');
    const updates = await eventually(async () => {
      const calls = proxy.callsTo('POST', path);
      return calls.length >= 3 ? calls : null;
    });
    expect(updates.map((c) => [c.form, c.status])).toEqual([
      [{ status: 'inactive' }, 200],
      [{ status: 'active' }, 200],
      [{ status: 'canceled' }, 200],
    ]);
    const keys = updates.map((c) => c.idempotencyKey);
    for (const key of keys) expect(key).toMatch(new RegExp(`^vcn:status:${card.partnerCardId}:t[0-9]+$`));
    expect(new Set(keys).size).toBe(3);
  });

  it('tells Stripe a card canceled as lost, with its cancellation_reason', async () => {
    const t = await stripeTenant();
    const u = await user(t, { billingAddress });
    const card = await ok(issue(t, u.id), 201);
    await change(t, card.id, 'cancel', { reason: 'lost' });
    const [update] = await eventually(async () => {
      const calls = proxy.callsTo('POST', `/v1/issuing/cards/${card.partnerCardId}`);
      return calls.length ? calls : null;
    });
    expect(update).toMatchObject({ form: { status: 'canceled', cancellation_reason: 'lost' }, status: 200 });
  });
});

describe('issuance at Lithic (the fake cards API)', () => {
  const lithicTenant = () =>
    partnerTenant('lithic', {
      apiKey: lithic.apiKey,
      apiBaseUrl: lithic.url,
      authorizationSigningSecret: `whsec_${Buffer.from(uniq('asa')).toString('base64')}`,
    });

  it('creates a virtual card under the Idempotency-Key header, needing no billing address', async () => {
    const t = await lithicTenant();
    const u = await user(t);
    const before = lithic.calls.length;
    const card = await ok(issue(t, u.id), 201);
    expect(card).toMatchObject({ status: 'active', partner: 'lithic' });

    const creates = lithic.calls.slice(before).filter((c) => c.method === 'POST' && c.path === '/v1/cards');
    expect(creates).toEqual([
      expect.objectContaining({
        idempotencyKey: `vcn:card:${card.id}`,
        status: 200,
        body: expect.objectContaining({ type: 'VIRTUAL', memo: card.id, state: 'OPEN' }),
      }),
    ]);
    const atLithic = lithic.cards.get(card.partnerCardId)!;
    expect(atLithic).toBeDefined();
    expect(card.last4).toBe(atLithic.last_four);
    expect([card.expMonth, card.expYear]).toEqual([Number(atLithic.exp_month), Number(atLithic.exp_year)]);
    // A program without PCI clearance gets no number from Lithic, and none is invented.
    const reveal = await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: t.appKey });
    expect(reveal.status).toBe(409);
    expect(reveal.body.error.code).toBe('CARD_NUMBER_UNAVAILABLE');
  });

  it('pauses, reopens and closes the card at Lithic as the platform changes its status', async () => {
    const t = await lithicTenant();
    const u = await user(t);
    const card = await ok(issue(t, u.id), 201);
    const state = () => lithic.cards.get(card.partnerCardId)!.state;
    const patches = () =>
      lithic.calls
        .filter((c) => c.method === 'PATCH' && c.path === `/v1/cards/${card.partnerCardId}`)
        .map((c) => c.body);

    await change(t, card.id, 'freeze');
    await eventually(async () => state() === 'PAUSED');
    await change(t, card.id, 'unfreeze');
    await eventually(async () => state() === 'OPEN');
    await change(t, card.id, 'cancel');
    await eventually(async () => state() === 'CLOSED');
    expect(patches()).toEqual([{ state: 'PAUSED' }, { state: 'OPEN' }, { state: 'CLOSED' }]);
  });
});
