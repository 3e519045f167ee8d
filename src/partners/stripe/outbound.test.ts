import Stripe from 'stripe';
import {
  requestHistory,
  stripeAuthorization,
  stripeBody,
  stripeEvent,
  stripeTransaction,
} from '../../../test/helpers/stripe-fixtures';
import { StripeClients, stripeClientOptions } from './client';
import { normalizeStripe } from './normalize';
import { stripeAuthorizationRecords, stripeTransactionRecord } from './outbound';

const AUTH = 'iauth_1Pgc77B7WZ01zgkWn0SmtHBY';
const CARD = 'ic_1Pgag5B7WZ01zgkWephORn8N';
const idsOf = (event: object) => {
  const r = normalizeStripe(Buffer.from(stripeBody(event)));
  return r.ok ? r.events.map((e) => e.eventId) : [];
};

describe('Stripe listing records', () => {
  const approved = (over: Partial<Stripe.Issuing.Authorization>) =>
    stripeAuthorization({
      approved: true,
      pending_request: null,
      request_history: [requestHistory(2_500, true, 'webhook_approved')],
      ...over,
    });

  it('an authorization reversed in part: what was approved and what fell, named like the webhooks', () => {
    const a = approved({ amount: 1_000 });
    const records = stripeAuthorizationRecords(a);
    expect(records.map((r) => [r.type, r.partnerTransactionId, r.amount, r.approved, r.eventId])).toEqual([
      ['authorization', AUTH, 2_500, true, `${AUTH}:decision`],
      ['reversal', AUTH, 1_500, null, `${AUTH}:reversal:1000`],
    ]);
    expect(records.every((r) => r.partnerCardId === CARD && r.currency === 'USD')).toBe(true);
    // The webhooks that told the same story carry the same ids: a heal, then the webhook, is a duplicate.
    expect(idsOf(stripeEvent('issuing_authorization.created', approved({ amount: 2_500 })))).toEqual([
      `${AUTH}:decision`,
    ]);
    expect(idsOf(stripeEvent('issuing_authorization.updated', a, { previous: { amount: 2_500 } }))).toEqual([
      `${AUTH}:reversal:1000`,
    ]);
  });

  it('an expired, a fully reversed and a declined authorization', () => {
    expect(
      stripeAuthorizationRecords(approved({ amount: 0, status: 'expired' })).map((r) => [r.type, r.eventId]),
    ).toEqual([
      ['authorization', `${AUTH}:decision`],
      ['expiry', `${AUTH}:expiry`],
    ]);
    expect(
      idsOf(
        stripeEvent('issuing_authorization.updated', approved({ status: 'expired' }), {
          previous: { status: 'pending' },
        }),
      ),
    ).toEqual([`${AUTH}:expiry`]);
    expect(
      stripeAuthorizationRecords(approved({ amount: 0, status: 'reversed' })).map((r) => [r.type, r.amount]),
    ).toEqual([
      ['authorization', 2_500],
      ['reversal', 2_500],
    ]);
    const declined = stripeAuthorization({
      pending_request: null,
      request_history: [requestHistory(900, false, 'webhook_declined')],
      status: 'closed',
    });
    expect(stripeAuthorizationRecords(declined).map((r) => [r.type, r.amount, r.approved])).toEqual([
      ['authorization', 900, false],
    ]);
  });

  it('a hold Stripe raised by itself counts as authorized', () => {
    expect(stripeAuthorizationRecords(approved({ amount: 10_000 }))[0]).toMatchObject({ amount: 10_000 });
  });

  it('captures, force captures and refunds, named like issuing_transaction.created', () => {
    const capture = stripeTransaction({ amount: -2_500 });
    expect(stripeTransactionRecord(capture)).toMatchObject({
      type: 'clearing',
      partnerTransactionId: AUTH,
      amount: 2_500,
      eventId: capture.id,
    });
    expect(idsOf(stripeEvent('issuing_transaction.created', capture))).toEqual([capture.id]);
    expect(stripeTransactionRecord(stripeTransaction({ id: 'ipi_f', authorization: null }))).toMatchObject({
      type: 'clearing',
      partnerTransactionId: 'ipi_f',
    });
    // An unlinked refund is its own entry in the books: refund:<id>.
    expect(
      stripeTransactionRecord(
        stripeTransaction({ id: 'ipi_r', type: 'refund', amount: 300, authorization: null }),
      ),
    ).toMatchObject({ type: 'refund', partnerTransactionId: 'refund:ipi_r', amount: 300 });
    expect(stripeTransactionRecord(stripeTransaction({ amount: 5 }))).toBeNull();
  });
});

describe('Stripe clients', () => {
  const creds = {
    tenantId: 't',
    subscriptionId: 'psub_a',
    apiKey: 'sk_test_a',
    apiBaseUrl: 'http://127.0.0.1:12111',
  };

  it('parses host, port and protocol from apiBaseUrl, with the SDK’s pin as the default version', () => {
    expect(stripeClientOptions(creds)).toEqual({
      apiVersion: Stripe.API_VERSION,
      host: '127.0.0.1',
      port: '12111',
      protocol: 'http',
      maxNetworkRetries: 2,
      timeout: 10_000,
      telemetry: false,
    });
    expect(
      stripeClientOptions({ ...creds, apiBaseUrl: undefined, stripeVersion: '2025-03-31.basil' }),
    ).toMatchObject({
      host: 'api.stripe.com',
      port: 443,
      protocol: 'https',
      apiVersion: '2025-03-31.basil',
    });
    expect(() => stripeClientOptions({ ...creds, apiBaseUrl: 'ftp://x' })).toThrow(/http/);
  });

  it('keeps one client per subscription until its key changes, and the least recently used goes first', () => {
    const clients = new StripeClients(2);
    const a = clients.get(creds);
    expect(clients.get(creds)).toBe(a);
    const b = clients.get({ ...creds, subscriptionId: 'psub_b' });
    clients.get(creds); // psub_a is now the most recently used
    clients.get({ ...creds, subscriptionId: 'psub_c' }); // psub_b goes
    expect(clients.size).toBe(2);
    expect(clients.get(creds)).toBe(a);
    expect(clients.get({ ...creds, subscriptionId: 'psub_b' })).not.toBe(b);
    // A rotated key replaces the subscription's client; forgetting it drops it.
    const rotated = clients.get({ ...creds, apiKey: 'sk_test_b' });
    expect(rotated).not.toBe(a);
    expect(clients.get({ ...creds, apiKey: 'sk_test_b' })).toBe(rotated);
    clients.forget('psub_a');
    expect(clients.get({ ...creds, apiKey: 'sk_test_b' })).not.toBe(rotated);
  });
});
