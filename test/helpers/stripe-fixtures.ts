/**
 * Stripe Issuing objects and events for tests, typed with the SDK's own types (stripe@23) and
 * filled like stripe-mock v0.203.0's fixtures, so that what the adapter reads is what Stripe sends.
 * Deliveries are signed with the SDK's `generateTestHeaderString`.
 */
import Stripe from 'stripe';
import type { InboundDelivery } from '../../src/partners/adapter';

const T = 1_764_623_000;

export function stripeCardholder(over: Partial<Stripe.Issuing.Cardholder> = {}): Stripe.Issuing.Cardholder {
  return {
    id: 'ich_1Pgag4B7WZ01zgkWdPVfBngi',
    object: 'issuing.cardholder',
    billing: {
      address: {
        city: 'Beverly Hills',
        country: 'US',
        line1: '123 Fake St',
        line2: 'Apt 3',
        postal_code: '90210',
        state: 'CA',
      },
    },
    company: null,
    created: T - 86_400,
    email: 'jenny@example.com',
    individual: null,
    livemode: false,
    metadata: {},
    name: 'Jenny Rosen',
    phone_number: '+18008675309',
    preferred_locales: ['en'],
    requirements: { disabled_reason: null, past_due: [] },
    spending_controls: {
      allowed_card_presences: null,
      allowed_categories: [],
      allowed_merchant_countries: [],
      blocked_card_presences: null,
      blocked_categories: [],
      blocked_merchant_countries: [],
      spending_limits: [],
      spending_limits_currency: null,
    },
    status: 'active',
    type: 'individual',
    ...over,
  };
}

export function stripeCard(over: Partial<Stripe.Issuing.Card> = {}): Stripe.Issuing.Card {
  return {
    id: 'ic_1Pgag5B7WZ01zgkWephORn8N',
    object: 'issuing.card',
    brand: 'Visa',
    cancellation_reason: null,
    cardholder: stripeCardholder(),
    created: T - 3_600,
    currency: 'usd',
    exp_month: 8,
    exp_year: 2030,
    last4: '4242',
    latest_fraud_warning: null,
    lifecycle_controls: null,
    livemode: false,
    metadata: {},
    personalization_design: null,
    replaced_by: null,
    replacement_for: null,
    replacement_reason: null,
    second_line: null,
    shipping: null,
    spending_controls: {
      allowed_card_presences: null,
      allowed_categories: null,
      allowed_merchant_countries: null,
      blocked_card_presences: null,
      blocked_categories: null,
      blocked_merchant_countries: null,
      spending_limits: [],
      spending_limits_currency: null,
    },
    status: 'active',
    type: 'virtual',
    wallets: null,
    ...over,
  };
}

export const rocketRides: Stripe.Issuing.Authorization.MerchantData = {
  category: 'taxicabs_limousines',
  category_code: '4121',
  city: 'San Francisco',
  country: 'US',
  name: 'Rocket Rides',
  network_id: '1234567890',
  postal_code: '94107',
  state: 'CA',
  tax_id: null,
  terminal_id: null,
  url: null,
};

export function pendingRequest(
  amount: number,
  over: Partial<Stripe.Issuing.Authorization.PendingRequest> = {},
): Stripe.Issuing.Authorization.PendingRequest {
  return {
    amount,
    amount_details: { atm_fee: null, cashback_amount: null },
    currency: 'usd',
    is_amount_controllable: false,
    merchant_amount: amount,
    merchant_currency: 'usd',
    network_risk_score: null,
    ...over,
  };
}

export function requestHistory(
  amount: number,
  approved: boolean,
  reason: Stripe.Issuing.Authorization.RequestHistory.Reason,
): Stripe.Issuing.Authorization.RequestHistory {
  return {
    amount,
    amount_details: { atm_fee: null, cashback_amount: null },
    approved,
    authorization_code: approved ? '123456' : null,
    created: T,
    currency: 'usd',
    merchant_amount: amount,
    merchant_currency: 'usd',
    network_risk_score: null,
    reason,
    reason_message: null,
    requested_at: T,
  };
}

/** An authorization; by default the pending request of 700 stripe-mock's fixture asks for. */
export function stripeAuthorization(
  over: Partial<Stripe.Issuing.Authorization> = {},
): Stripe.Issuing.Authorization {
  return {
    id: 'iauth_1Pgc77B7WZ01zgkWn0SmtHBY',
    object: 'issuing.authorization',
    amount: 0,
    amount_details: { atm_fee: null, cashback_amount: null },
    approved: false,
    authorization_method: 'online',
    balance_transactions: [],
    card: stripeCard(),
    card_presence: null,
    cardholder: 'ich_1Pgag4B7WZ01zgkWdPVfBngi',
    created: T,
    currency: 'usd',
    fleet: null,
    fuel: null,
    livemode: false,
    merchant_amount: 0,
    merchant_currency: 'usd',
    merchant_data: rocketRides,
    metadata: {},
    network_data: null,
    pending_request: pendingRequest(700),
    request_history: [],
    status: 'pending',
    transactions: [],
    verification_data: {
      address_line1_check: 'not_provided',
      address_postal_code_check: 'match',
      authentication_exemption: null,
      cvc_check: 'match',
      expiry_check: 'match',
      postal_code: null,
      three_d_secure: null,
    },
    verified_by_fraud_challenge: null,
    wallet: null,
    ...over,
  };
}

/** A capture (amount negative: the balance's view) or refund (positive). */
export function stripeTransaction(
  over: Partial<Stripe.Issuing.Transaction> = {},
): Stripe.Issuing.Transaction {
  return {
    id: 'ipi_1Pgc78B7WZ01zgkWuDwuyAOr',
    object: 'issuing.transaction',
    amount: -100,
    amount_details: { atm_fee: null, cashback_amount: null },
    authorization: 'iauth_1Pgc77B7WZ01zgkWn0SmtHBY',
    balance_transaction: null,
    card: 'ic_1Pgag5B7WZ01zgkWephORn8N',
    cardholder: 'ich_1Pgag4B7WZ01zgkWdPVfBngi',
    created: T + 60,
    currency: 'usd',
    dispute: null,
    livemode: false,
    merchant_amount: -100,
    merchant_currency: 'usd',
    merchant_data: rocketRides,
    metadata: {},
    network_data: null,
    type: 'capture',
    wallet: null,
    ...over,
  };
}

type IssuingEvent =
  | Stripe.IssuingAuthorizationRequestEvent
  | Stripe.IssuingAuthorizationCreatedEvent
  | Stripe.IssuingAuthorizationUpdatedEvent
  | Stripe.IssuingTransactionCreatedEvent
  | Stripe.IssuingCardUpdatedEvent
  | Stripe.IssuingCardholderCreatedEvent;

let seq = 0;
/** An event envelope as Stripe delivers it (its `data.object` typed by the event type). */
export function stripeEvent<E extends IssuingEvent>(
  type: E['type'],
  object: E['data']['object'],
  opts: { previous?: E['data']['previous_attributes']; id?: string; created?: number } = {},
): E {
  return {
    id: opts.id ?? `evt_test${String(++seq).padStart(6, '0')}`,
    object: 'event',
    api_version: Stripe.API_VERSION,
    created: opts.created ?? T,
    data: { object, ...(opts.previous ? { previous_attributes: opts.previous } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  } as E;
}

/** Stripe's bytes: pretty-printed, as it sends them (the signature covers exactly these). */
export const stripeBody = (event: object): string => JSON.stringify(event, null, 2);

/** `Stripe-Signature` for a payload, made by the SDK (`timestamp` in unix seconds). */
export function stripeSignature(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}

/** Two `v1=` of one timestamp, as Stripe sends while an endpoint's secret rolls over. */
export function stripeRotationSignature(
  payload: string,
  secrets: [string, string],
  timestamp: number,
): string {
  const [a, b] = secrets.map((secret) => stripeSignature(payload, secret, timestamp));
  return `${a},${b!.split(',')[1]}`;
}

/** A signed delivery of an event, received `receivedAtMs` (default: when it was signed). */
export function stripeDelivery(
  event: object,
  secret: string,
  opts: { timestamp?: number; receivedAtMs?: number; header?: string } = {},
): InboundDelivery {
  const raw = stripeBody(event);
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'stripe-signature': opts.header ?? stripeSignature(raw, secret, timestamp),
    },
    rawBody: Buffer.from(raw),
    receivedAtMs: opts.receivedAtMs ?? timestamp * 1000,
  };
}
