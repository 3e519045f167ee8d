/**
 * The Stripe adapter's outbound calls, through the official SDK, against stripe-mock (Stripe's
 * own API mock, built on first use into the user cache) behind a recording proxy. stripe-mock
 * checks that each call is well-formed (paths, parameters, enums, auth) and answers the real
 * shapes, but keeps no state: these tests assert on what the adapter sent, never on data read
 * back from the mock (partners.md §1).
 */
import Stripe from 'stripe';
import type { StripeMockHandle } from '../src/infra/stripe-mock';
import type { CreatePartnerCardInput, PartnerCredentials } from '../src/partners/adapter';
import { PartnerConfigError } from '../src/partners/common';
import { createStripeAdapter } from '../src/partners/stripe';
import { startRecordingProxy, startTestStripeMock, type RecordingProxy } from './helpers/stripe-mock';

let mock: StripeMockHandle;
let proxy: RecordingProxy;
let credentials: PartnerCredentials;
const stripe = createStripeAdapter();

beforeAll(async () => {
  mock = await startTestStripeMock();
  proxy = await startRecordingProxy(mock.url);
  credentials = {
    tenantId: 'ten_stripe',
    subscriptionId: 'psub_stripe1',
    apiKey: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
    apiBaseUrl: proxy.url,
  };
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await mock?.stop();
});

beforeEach(() => proxy.clear());

const input = (ref: string, over: Partial<CreatePartnerCardInput> = {}): CreatePartnerCardInput => ({
  programId: 'ten_stripe',
  platformCardRef: ref,
  expiresAt: new Date('2029-11-30T00:00:00Z'),
  currency: 'USD',
  holder: {
    userId: 'usr_jenny',
    name: 'Jenny Rosen',
    email: 'jenny@example.com',
    region: 'US-CA',
    billingAddress: {
      line1: '123 Fake St',
      city: 'Beverly Hills',
      state: 'CA',
      postalCode: '90210',
      country: 'US',
    },
  },
  ...over,
});

describe('Stripe adapter against stripe-mock', () => {
  it('creates the cardholder and the card with deterministic idempotency keys, then retrieves the number', async () => {
    const card = await stripe.createCard(credentials, input('card_one'));

    const [holder] = proxy.callsTo('POST', '/v1/issuing/cardholders');
    expect(holder).toMatchObject({
      idempotencyKey: 'vcn:cardholder:usr_jenny',
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
        'metadata[vcn_user_id]': 'usr_jenny',
      },
    });
    const [create] = proxy.callsTo('POST', '/v1/issuing/cards');
    expect(create).toMatchObject({
      idempotencyKey: 'vcn:card:card_one',
      status: 200,
      form: {
        currency: 'usd',
        type: 'virtual',
        status: 'active',
        'metadata[vcn_card_id]': 'card_one',
        'metadata[vcn_tenant_id]': 'ten_stripe',
      },
    });
    expect(create!.form.cardholder).toMatch(/^ich_/);
    // The card is retrieved by the id its create answered (never looked up by metadata), with
    // number and CVC expanded for the vault.
    const retrieves = proxy.callsTo('GET', /^\/v1\/issuing\/cards\/ic_/);
    expect(retrieves).toHaveLength(1);
    expect(retrieves[0]!.path).toBe(`/v1/issuing/cards/${card.partnerCardId}`);
    expect(retrieves[0]!.query).toEqual({ 'expand[0]': 'number', 'expand[1]': 'cvc' });
    expect(proxy.calls.every((c) => c.stripeVersion === Stripe.API_VERSION)).toBe(true);
  });

  it('does not invent a number when Stripe reveals none (a test key: stripe-mock answers "")', async () => {
    const card = await stripe.createCard(credentials, input('card_empty'));
    expect(card.number).toBeNull();
    expect(card.cvc).toBeNull();
    expect(card.last4).toMatch(/^[0-9]{4}$/);
  });

  it('sends the same keys again when an activity retries, and reuses a cardholder the user has', async () => {
    await stripe.createCard(credentials, input('card_retry'));
    await stripe.createCard(credentials, input('card_retry'));
    expect(proxy.callsTo('POST', '/v1/issuing/cards').map((c) => c.idempotencyKey)).toEqual([
      'vcn:card:card_retry',
      'vcn:card:card_retry',
    ]);
    proxy.clear();
    const known = input('card_known');
    known.holder!.partnerCardholderId = 'ich_known';
    await stripe.createCard(credentials, known);
    expect(proxy.callsTo('POST', '/v1/issuing/cardholders')).toEqual([]);
    expect(proxy.callsTo('POST', '/v1/issuing/cards')[0]!.form.cardholder).toBe('ich_known');
  });

  it('freezes as status=inactive, unfreezes as active, cancels as canceled, each change under its own key', async () => {
    await stripe.updateCardStatus(credentials, {
      programId: 'ten_stripe',
      partnerCardId: 'ic_abc',
      status: 'frozen',
      changeKey: '3',
    });
    await stripe.updateCardStatus(credentials, {
      programId: 'ten_stripe',
      partnerCardId: 'ic_abc',
      status: 'active',
      changeKey: '4',
    });
    await stripe.updateCardStatus(credentials, {
      programId: 'ten_stripe',
      partnerCardId: 'ic_abc',
      status: 'canceled',
      changeKey: '5',
      reason: 'stolen',
    });
    expect(
      proxy.callsTo('POST', '/v1/issuing/cards/ic_abc').map((c) => [c.form, c.idempotencyKey, c.status]),
    ).toEqual([
      [{ status: 'inactive' }, 'vcn:status:ic_abc:3', 200],
      [{ status: 'active' }, 'vcn:status:ic_abc:4', 200],
      [{ status: 'canceled', cancellation_reason: 'stolen' }, 'vcn:status:ic_abc:5', 200],
    ]);
  });

  it('pages the listings with starting_after and a created window in seconds', async () => {
    const from = new Date('2026-11-30T00:00:00.000Z');
    const to = new Date('2026-12-01T00:00:00.500Z');
    const first = await stripe.listTransactions(credentials, {
      programId: 'ten_stripe',
      from,
      to,
      cursor: null,
      limit: 500,
    });
    // stripe-mock has no more pages: the authorizations are done, the transactions come next.
    const second = await stripe.listTransactions(credentials, {
      programId: 'ten_stripe',
      from,
      to,
      cursor: first.nextCursor,
      limit: 500,
    });
    expect(second.nextCursor).toBeNull();
    const window = { 'created[gte]': '1795996800', 'created[lt]': '1796083201', limit: '100' };
    expect(proxy.callsTo('GET', '/v1/issuing/authorizations').map((c) => c.query)).toEqual([window]);
    expect(proxy.callsTo('GET', '/v1/issuing/transactions').map((c) => c.query)).toEqual([window]);
    // Every record the adapter made from stripe-mock's fixtures is well-formed.
    for (const r of [...first.data, ...second.data]) {
      expect(['authorization', 'clearing', 'reversal', 'refund', 'expiry']).toContain(r.type);
      expect(Number.isSafeInteger(r.amount) && r.amount >= 0).toBe(true);
      expect(r.currency).toMatch(/^[A-Z]{3}$/);
      expect(r.eventId).toBeTruthy();
    }

    proxy.clear();
    const cards = await stripe.listCards(credentials, {
      programId: 'ten_stripe',
      cursor: 'ic_after',
      limit: 2,
    });
    expect(proxy.callsTo('GET', '/v1/issuing/cards').map((c) => c.query)).toEqual([
      { limit: '2', starting_after: 'ic_after' },
    ]);
    for (const c of cards.data) expect(['active', 'frozen', 'canceled']).toContain(c.status);
    proxy.clear();
    const resumed = Buffer.from(JSON.stringify({ phase: 'transactions', after: 'ipi_after' })).toString(
      'base64url',
    );
    await stripe.listTransactions(credentials, {
      programId: 'ten_stripe',
      from,
      to,
      cursor: resumed,
      limit: 10,
    });
    expect(proxy.calls.map((c) => [c.path, c.query.starting_after])).toEqual([
      ['/v1/issuing/transactions', 'ipi_after'],
    ]);
  });

  it('sends the subscription’s API version, and refuses what cannot work before calling Stripe', async () => {
    const pinned = { ...credentials, subscriptionId: 'psub_stripe2', stripeVersion: '2025-03-31.basil' };
    await stripe.updateCardStatus(pinned, {
      programId: 'ten_stripe',
      partnerCardId: 'ic_v',
      status: 'frozen',
    });
    // No change key: no key of ours (an absolute status is harmless to set twice); the SDK adds
    // its own for its network retries.
    expect(proxy.calls.map((c) => c.stripeVersion)).toEqual(['2025-03-31.basil']);
    expect(proxy.calls[0]!.idempotencyKey).toMatch(/^stripe-node-retry-/);
    proxy.clear();
    await expect(
      stripe.createCard(
        credentials,
        input('card_noaddr', { holder: { ...input('x').holder!, billingAddress: undefined } }),
      ),
    ).rejects.toBeInstanceOf(PartnerConfigError);
    await expect(
      stripe.createCard(
        { ...credentials, apiKey: undefined, subscriptionId: 'psub_nokey' },
        input('card_nokey'),
      ),
    ).rejects.toBeInstanceOf(PartnerConfigError);
    expect(proxy.calls).toEqual([]);
  });

  it('surfaces stripe-mock’s refusal of a key that is no test key', async () => {
    const bad = { ...credentials, subscriptionId: 'psub_badkey', apiKey: 'not_a_stripe_key' };
    await expect(
      stripe.updateCardStatus(bad, { programId: 'ten_stripe', partnerCardId: 'ic_x', status: 'frozen' }),
    ).rejects.toMatchObject({ type: 'StripeAuthenticationError', statusCode: 401 });
  });
});
