/**
 * Lithic bodies for tests, typed with the SDK's own types (lithic@0.145.0): Auth Stream Access
 * requests (`CardAuthorization`, no `event_type`), `card_transaction.updated` (the `Transaction`
 * flat, with its cumulative `events[]`), `card.updated`, and cards as the API returns them. Signed
 * with the `standardwebhooks` library's `Webhook#sign`, as Lithic signs.
 */
import crypto from 'node:crypto';
import type Lithic from 'lithic';
import { Webhook } from 'standardwebhooks';
import type { InboundDelivery } from '../../src/partners/adapter';

export const LITHIC_CARD = '76b9f589-0c3c-4b37-a1f6-5b0a7b2c9e10';
const CREATED = '2026-11-30T10:00:00.000Z';

/** A Standard Webhooks secret as Lithic hands them out: `whsec_` + base64 of 24 random bytes. */
export const lithicSecret = (): string => `whsec_${crypto.randomBytes(24).toString('base64')}`;

const merchant: Lithic.Transaction.Merchant = {
  acceptor_id: '174030075991',
  acquiring_institution_id: '191231',
  city: 'NEW YORK',
  country: 'USA',
  descriptor: 'COFFEE SHOP',
  mcc: '5812',
  state: 'NY',
  phone_number: null,
  postal_code: '10001',
  street_address: null,
};

const terminal = (partial = false): Lithic.Transaction.Pos.Terminal => ({
  attended: false,
  card_retention_capable: false,
  on_premise: false,
  operator: 'UNKNOWN',
  partial_approval_capable: partial,
  pin_capability: 'NOT_CAPABLE',
  type: 'UNKNOWN',
});

/** An ASA request (Lithic's asa-demo sample with the 0.145 fields). */
export function lithicAsa(
  over: Partial<Lithic.CardAuthorization> = {},
  amount = 5_200,
): Lithic.CardAuthorization {
  return {
    token: '7842e70e-2b17-47ca-8541-869636bedf6a',
    status: 'AUTHORIZATION',
    created: CREATED,
    acquirer_fee: 0,
    amount,
    authorization_amount: amount,
    amounts: {
      cardholder: { amount, currency: 'USD', conversion_rate: '1.000000' },
      hold: { amount, currency: 'USD' },
      merchant: { amount, currency: 'USD' },
      settlement: null,
    },
    avs: { address: '', address_on_file_match: 'NOT_PRESENT', zipcode: '33090' },
    card: {
      token: LITHIC_CARD,
      last_four: '3860',
      memo: 'card_1',
      spend_limit: 0,
      spend_limit_duration: 'TRANSACTION',
      state: 'OPEN',
      type: 'VIRTUAL',
    },
    cardholder_currency: 'USD',
    cash_amount: 0,
    merchant,
    merchant_amount: amount,
    merchant_currency: 'USD',
    name_validation: null,
    service_location: null,
    settled_amount: 0,
    transaction_initiator: 'CARDHOLDER',
    pos: { terminal: terminal() },
    ...over,
  };
}

export const partialCapable = (): Lithic.CardAuthorization['pos'] => ({ terminal: terminal(true) });

let seq = 0;
/** One entry of a transaction's `events[]`: unsigned amount, its direction in `effective_polarity`. */
export function lithicEvent(
  type: Lithic.Transaction.Event['type'],
  amount: number,
  over: Partial<Lithic.Transaction.Event> = {},
): Lithic.Transaction.Event {
  const debit = [
    'AUTHORIZATION',
    'AUTHORIZATION_ADVICE',
    'CLEARING',
    'FINANCIAL_AUTHORIZATION',
    'CORRECTION_DEBIT',
    'RETURN_REVERSAL',
  ];
  seq += 1;
  return {
    token: `0c2adae9-f535-4505-8c35-${String(seq).padStart(12, '0')}`,
    amount,
    amounts: {
      cardholder: { amount, currency: 'USD', conversion_rate: '1.000000' },
      merchant: { amount, currency: 'USD' },
      settlement: null,
    },
    created: new Date(Date.parse(CREATED) + seq * 1000).toISOString(),
    detailed_results: ['APPROVED'],
    effective_polarity: debit.includes(type) ? 'DEBIT' : 'CREDIT',
    network_info: null,
    result: 'APPROVED',
    rule_results: [],
    type,
    ...over,
  };
}

/** A card transaction with its events so far (Lithic sends the whole list every time). */
export function lithicTransaction(
  events: Lithic.Transaction.Event[],
  over: Partial<Lithic.Transaction> = {},
): Lithic.Transaction {
  return {
    token: '7842e70e-2b17-47ca-8541-869636bedf6a',
    account_token: 'bd5e5649-1be8-4117-9bc5-3268258d1417',
    acquirer_fee: 0,
    acquirer_reference_number: null,
    amount: 0,
    amounts: {
      cardholder: { amount: 0, currency: 'USD', conversion_rate: '1.000000' },
      hold: { amount: 0, currency: 'USD' },
      merchant: { amount: 0, currency: 'USD' },
      settlement: { amount: 0, currency: 'USD' },
    },
    authorization_amount: null,
    authorization_code: '123456',
    avs: null,
    card_token: LITHIC_CARD,
    cardholder_authentication: null,
    created: CREATED,
    financial_account_token: null,
    merchant,
    merchant_amount: null,
    merchant_authorization_amount: null,
    merchant_currency: 'USD',
    network: 'VISA',
    network_risk_score: null,
    pos: {
      entry_mode: { card: 'NOT_PRESENT', cardholder: 'NOT_PRESENT', pan: 'ECOMMERCE', pin_entered: false },
      terminal: terminal(),
    },
    result: 'APPROVED',
    service_location: null,
    settled_amount: 0,
    status: 'PENDING',
    tags: {},
    token_info: null,
    updated: CREATED,
    events,
    ...over,
  };
}

export function cardTransactionUpdated(tx: Lithic.Transaction): Lithic.CardTransactionUpdatedWebhookEvent {
  return { ...tx, event_type: 'card_transaction.updated' };
}

export function cardUpdated(state: string, previous: string | null): Lithic.CardUpdatedWebhookEvent {
  return {
    event_type: 'card.updated',
    card_token: LITHIC_CARD,
    state,
    previous_fields: previous === null ? {} : { state: previous },
  };
}

/** A card as `cards.create` / `cards.retrieve` return it (pan and cvv only for PCI-cleared programs). */
export function lithicCard(over: Partial<Lithic.Card> = {}): Lithic.Card {
  return {
    token: LITHIC_CARD,
    account_token: 'bd5e5649-1be8-4117-9bc5-3268258d1417',
    card_program_token: '5e9483eb-8103-4e16-9794-2106111b2eca',
    created: CREATED,
    funding: null,
    last_four: '3860',
    pin_status: 'NOT_SET',
    spend_limit: 0,
    spend_limit_duration: 'FOREVER',
    state: 'OPEN',
    type: 'VIRTUAL',
    exp_month: '11',
    exp_year: '2029',
    ...over,
  };
}

/** Standard Webhooks headers for a payload (`at` in unix seconds), signed with each secret given. */
export function lithicHeaders(
  raw: string,
  secrets: string | string[],
  opts: { id?: string; at?: number } = {},
): Record<string, string> {
  const id = opts.id ?? `msg_${crypto.randomBytes(8).toString('hex')}`;
  const at = opts.at ?? Math.floor(Date.now() / 1000);
  const list = Array.isArray(secrets) ? secrets : [secrets];
  return {
    'webhook-id': id,
    'webhook-timestamp': String(at),
    'webhook-signature': list.map((s) => new Webhook(s).sign(id, new Date(at * 1000), raw)).join(' '),
  };
}

/** A signed delivery of a body, received when it was signed (or `receivedAtMs`). */
export function lithicDelivery(
  body: object,
  secrets: string | string[],
  opts: { id?: string; at?: number; receivedAtMs?: number } = {},
): InboundDelivery {
  const raw = JSON.stringify(body);
  const at = opts.at ?? Math.floor(Date.now() / 1000);
  return {
    headers: { 'content-type': 'application/json', ...lithicHeaders(raw, secrets, { ...opts, at }) },
    rawBody: Buffer.from(raw),
    receivedAtMs: opts.receivedAtMs ?? at * 1000,
  };
}
