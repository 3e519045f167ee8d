/**
 * One card story told by three partners: the sandbox (its own envelope, Standard Webhooks), Stripe
 * Issuing (SDK-typed events, signed with `stripe.webhooks.generateTestHeaderString`) and Lithic
 * (SDK-typed ASA requests and events, signed with `standardwebhooks`), each through its webhook
 * URL at the platform, as the partner would send it.
 *
 * Each card is issued through the API at the partner its program's policy names (stripe-mock
 * behind the recording proxy, the Lithic fake: see story-partners.ts), and the partner's
 * deliveries name it by the id that partner returned.
 */
import crypto from 'node:crypto';
import type Lithic from 'lithic';
import type Stripe from 'stripe';
import type { ProgramPolicy } from '../../src/domain/policy';
import type { Harness } from './harness';
import { cardBody, newTenant, newUser, uniq, type TestTenant } from './fixtures';
import {
  cardTransactionUpdated,
  lithicAsa,
  lithicEvent,
  lithicHeaders,
  lithicSecret,
  lithicTransaction,
  partialCapable,
} from './lithic-fixtures';
import {
  pendingRequest,
  requestHistory,
  stripeAuthorization,
  stripeBody,
  stripeEvent,
  stripeSignature,
  stripeTransaction,
} from './stripe-fixtures';
import { partnerTenant } from './partner-tenant';
import type { StoryPartners } from './story-partners';
import { merchant as sandboxMerchant, sendEvent } from './webhooks';
import { eventually } from './wait';

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
  ms: number;
}

/** What each partner can send about one card. Transaction names (`A1`…) are the story's own. */
export interface PartnerDriver {
  readonly name: string;
  readonly t: TestTenant;
  readonly card: { id: string; partnerCardId: string };
  /** A real-time authorization request; answered synchronously. */
  authorize(tx: string, amount: number, opts?: { partialApproval?: boolean }): Promise<Reply>;
  /** The same request's exact bytes again (a partner's retry). */
  redeliverAuthorize(tx: string): Promise<Reply>;
  /** What the partner says after its decision (Stripe `.created`, Lithic's AUTHORIZATION entry). */
  decided(
    tx: string,
    approved: boolean,
    amount: number,
    /** Stripe: why (`request_history[].reason`; default webhook_approved / webhook_declined). */
    reason?: Stripe.Issuing.Authorization.RequestHistory.Reason,
  ): Promise<void>;
  capture(tx: string, amount: number): Promise<void>;
  reverse(tx: string, amount: number): Promise<void>;
  expire(tx: string): Promise<void>;
  /** A refund the partner does not link to the purchase. */
  refundUnlinked(id: string, amount: number): Promise<void>;
  /** A capture with no authorization. */
  forceCapture(id: string, amount: number): Promise<void>;
  freeze(): Promise<void>;
  cancel(): Promise<void>;
}

export async function post(
  h: Harness,
  url: string,
  raw: string,
  headers: Record<string, string>,
): Promise<Reply> {
  const t0 = performance.now();
  const res = await fetch(`${h.baseUrl}${new URL(url).pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? JSON.parse(text) : undefined,
    headers: res.headers,
    ms: performance.now() - t0,
  };
}

/** Waits until each of a delivery's events has its outcome (applied, duplicate, ignored…). */
async function settled(h: Harness, reply: Reply, events: number): Promise<void> {
  if (reply.status !== 200)
    throw new Error(`delivery refused: ${reply.status} ${JSON.stringify(reply.body)}`);
  const id = reply.body?.id as string;
  await eventually(async () => {
    const rows = await h.knex('webhook_outcomes').where({ deliveryId: id }).whereNot({ outcome: 'parked' });
    return rows.length >= Math.max(1, events);
  });
}

/** A user's card (limit 20 000 all time) as issued through the API, at the tenant's partner. */
async function issue(h: Harness, t: TestTenant, userId: string, controls?: Record<string, unknown>) {
  const res = await h.request('POST', '/v1/cards', {
    key: t.appKey,
    body: cardBody(userId, controls ? { controls } : {}),
    headers: { 'idempotency-key': uniq('idem') },
  });
  if (res.status !== 201) throw new Error(`issuance failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; partner: string; partnerCardId: string };
}

/** A tenant with a user and an active card, issued at the sandbox. */
async function sandboxCard(h: Harness, controls?: Record<string, unknown>) {
  const t = await newTenant(h);
  const user = await newUser(h, t);
  return { t, card: await issue(h, t, user.id, controls) };
}

/**
 * A tenant whose policy names `partner`, connected to it (its API at `apiBaseUrl`), with a user
 * (billed at an address, which Stripe needs) and a card issued there, under the id it returned.
 */
async function partnerCard(
  h: Harness,
  partner: 'stripe' | 'lithic',
  credentials: Parameters<typeof partnerTenant>[2],
  o: { controls?: Record<string, unknown>; policy?: Partial<ProgramPolicy> },
) {
  const p = await partnerTenant(h, partner, credentials, { policy: o.policy });
  const t = p.tenant;
  const user = await h.request('POST', '/v1/users', {
    key: t.appKey,
    body: {
      externalId: uniq('ext'),
      name: 'Test Shopper',
      region: 'US-CA',
      billingAddress: {
        line1: '123 Fake St',
        city: 'Beverly Hills',
        state: 'CA',
        postalCode: '90210',
        country: 'US',
      },
    },
  });
  if (user.status !== 201)
    throw new Error(`user creation failed: ${user.status} ${JSON.stringify(user.body)}`);
  const card = await issue(h, t, user.body.id, o.controls);
  if (card.partner !== partner) throw new Error(`issued at ${card.partner}, not ${partner}`);
  return { t, card, sub: { id: p.subscriptionId, url: p.subscriptionUrl } };
}

// ---- the sandbox -----------------------------------------------------------------------------------

export async function sandboxDriver(h: Harness, controls?: Record<string, unknown>): Promise<PartnerDriver> {
  const { t, card } = await sandboxCard(h, controls);
  const txs = new Map<string, string>();
  const txId = (tx: string) => txs.get(tx) ?? txs.set(tx, uniq(`sb-${tx}`)).get(tx)!;
  const requests = new Map<string, { id: string; raw: string }>();
  const send = async (
    type: string,
    data: Record<string, unknown>,
    o: { id?: string; rawBody?: string } = {},
  ) => {
    const t0 = performance.now();
    const res = await sendEvent(h, t, type, data, o);
    return { ...res, ms: performance.now() - t0 };
  };
  const async = async (type: string, data: Record<string, unknown>) =>
    settled(h, await send(type, { cardId: card.partnerCardId, ...data }), 1);
  return {
    name: 'sandbox',
    t,
    card,
    async authorize(tx, amount) {
      const id = `evt_${crypto.randomBytes(8).toString('hex')}`;
      const data = {
        transactionId: txId(tx),
        cardId: card.partnerCardId,
        amount,
        currency: 'USD',
        merchant: sandboxMerchant,
      };
      const raw = JSON.stringify({
        id,
        type: 'authorization.request',
        created: new Date().toISOString(),
        data,
      });
      requests.set(tx, { id, raw });
      return send('authorization.request', data, { id, rawBody: raw });
    },
    async redeliverAuthorize(tx) {
      const r = requests.get(tx)!;
      return send('authorization.request', {}, { id: r.id, rawBody: r.raw });
    },
    async decided() {
      // The sandbox sends nothing after answering a request.
    },
    capture: (tx, amount) =>
      async('transaction.cleared', { transactionId: txId(tx), amount, currency: 'USD' }),
    reverse: (tx, amount) => async('authorization.reversed', { transactionId: txId(tx), amount }),
    expire: (tx) => async('authorization.expired', { transactionId: txId(tx) }),
    refundUnlinked: (id, amount) =>
      async('transaction.refunded', { refundId: uniq(id), amount, currency: 'USD' }),
    forceCapture: (id, amount) =>
      async('transaction.cleared', { transactionId: uniq(id), amount, currency: 'USD' }),
    freeze: () => async('card.updated', { status: 'frozen' }),
    cancel: () => async('card.updated', { status: 'canceled' }),
  };
}

// ---- Stripe ----------------------------------------------------------------------------------------

export const stripeSecret = (): string => `whsec_${crypto.randomBytes(24).toString('hex')}`;

export async function stripeDriver(
  h: Harness,
  at: StoryPartners,
  o: { controls?: Record<string, unknown>; secret?: string; policy?: Partial<ProgramPolicy> } = {},
): Promise<
  PartnerDriver & {
    sub: { id: string; url: string };
    secret: string;
    sendRaw: typeof sendRaw;
    /** A further `.request` on an authorization holding `holding`: an increment of `amount`. */
    increment(tx: string, amount: number, holding: number): Promise<Reply>;
  }
> {
  const secret = o.secret ?? stripeSecret();
  const { t, card, sub } = await partnerCard(
    h,
    'stripe',
    { signingSecret: secret, apiKey: 'sk_test_story4242', apiBaseUrl: at.stripe.url },
    o,
  );
  const partnerCardId = card.partnerCardId;
  // The card as Stripe made it (the proxy's answer to the create): what its deliveries carry.
  const issuing = at.stripeCards.get(partnerCardId);
  if (!issuing) throw new Error(`Stripe made no card ${partnerCardId}`);
  const ids = new Map<string, string>();
  const auth = (tx: string) =>
    ids.get(tx) ?? ids.set(tx, `iauth_${crypto.randomBytes(8).toString('hex')}`).get(tx)!;
  const now = () => Math.floor(Date.now() / 1000);
  const raws = new Map<string, string>();
  const amounts = new Map<string, number>();
  function sendRaw(raw: string, header?: string) {
    return post(h, sub.url, raw, { 'stripe-signature': header ?? stripeSignature(raw, secret) });
  }
  const event = async (
    type: Parameters<typeof stripeEvent>[0],
    object: any,
    previous?: object,
    events = 1,
  ) => {
    const raw = stripeBody(
      stripeEvent(type, object, {
        id: `evt_${crypto.randomBytes(10).toString('hex')}`,
        created: now(),
        ...(previous ? { previous: previous as never } : {}),
      }),
    );
    await settled(h, await sendRaw(raw), events);
  };
  /** `issuing_authorization.updated` to a final status, from a pending one (`previous_attributes`). */
  const authorizationUpdated = (
    tx: string,
    status: 'closed' | 'reversed' | 'expired',
    amount: number,
    previous: object = { status: 'pending' },
  ) =>
    event(
      'issuing_authorization.updated',
      stripeAuthorization({
        id: auth(tx),
        card: issuing,
        amount,
        approved: true,
        status,
        pending_request: null,
      }),
      previous,
    );
  return {
    name: 'stripe',
    t,
    card: { id: card.id, partnerCardId },
    sub,
    secret,
    sendRaw,
    async authorize(tx, amount, opts = {}) {
      const object = stripeAuthorization({
        id: auth(tx),
        card: issuing,
        created: now(),
        pending_request: pendingRequest(amount, { is_amount_controllable: opts.partialApproval === true }),
      });
      const raw = stripeBody(
        stripeEvent('issuing_authorization.request', object, {
          id: `evt_${crypto.randomBytes(10).toString('hex')}`,
          created: now(),
        }),
      );
      raws.set(tx, raw);
      return sendRaw(raw);
    },
    redeliverAuthorize: (tx) => sendRaw(raws.get(tx)!),
    increment(tx, amount, holding) {
      const object = stripeAuthorization({
        id: auth(tx),
        card: issuing,
        amount: holding,
        approved: true,
        pending_request: pendingRequest(amount),
      });
      return sendRaw(
        stripeBody(
          stripeEvent('issuing_authorization.request', object, {
            id: `evt_${crypto.randomBytes(10).toString('hex')}`,
            created: now(),
          }),
        ),
      );
    },
    async decided(tx, approved, amount, reason) {
      amounts.set(tx, approved ? amount : 0);
      await event(
        'issuing_authorization.created',
        stripeAuthorization({
          id: auth(tx),
          card: issuing,
          amount: approved ? amount : 0,
          approved,
          pending_request: null,
          request_history: [
            requestHistory(amount, approved, reason ?? (approved ? 'webhook_approved' : 'webhook_declined')),
          ],
        }),
      );
    },
    async capture(tx, amount) {
      await event(
        'issuing_transaction.created',
        stripeTransaction({
          id: `ipi_${crypto.randomBytes(8).toString('hex')}`,
          amount: -amount,
          authorization: auth(tx),
          card: partnerCardId,
        }),
      );
      // Then the authorization closes: no money by itself (outcome ignored).
      await authorizationUpdated(tx, 'closed', amounts.get(tx) ?? 0);
    },
    async reverse(tx, amount) {
      const before = amounts.get(tx) ?? amount;
      await authorizationUpdated(tx, 'reversed', before - amount, { amount: before, status: 'pending' });
    },
    async expire(tx) {
      await authorizationUpdated(tx, 'expired', amounts.get(tx) ?? 0);
    },
    async refundUnlinked(id, amount) {
      await event(
        'issuing_transaction.created',
        stripeTransaction({
          id: `ipi_${crypto.randomBytes(8).toString('hex')}`,
          type: 'refund',
          amount,
          authorization: null,
          card: partnerCardId,
        }),
      );
    },
    async forceCapture(id, amount) {
      await event(
        'issuing_transaction.created',
        stripeTransaction({
          id: `ipi_${crypto.randomBytes(8).toString('hex')}`,
          amount: -amount,
          authorization: null,
          card: partnerCardId,
        }),
      );
    },
    freeze: () =>
      event(
        'issuing_card.updated',
        { ...issuing, status: 'inactive' },
        {
          status: 'active',
        },
      ),
    cancel: () =>
      event(
        'issuing_card.updated',
        { ...issuing, status: 'canceled', cancellation_reason: 'lost' },
        { status: 'inactive' },
      ),
  };
}

// ---- Lithic ----------------------------------------------------------------------------------------

export async function lithicDriver(
  h: Harness,
  at: StoryPartners,
  o: { controls?: Record<string, unknown>; policy?: Partial<ProgramPolicy> } = {},
): Promise<
  PartnerDriver & {
    secrets: { events: string; asa: string };
    sub: { id: string; url: string };
    /** Any further entry of a transaction's `events[]`, sent with all before it. */
    sendEntry(tx: string, e: Lithic.Transaction.Event): Promise<void>;
  }
> {
  const secrets = { events: lithicSecret(), asa: lithicSecret() };
  const { t, card, sub } = await partnerCard(
    h,
    'lithic',
    {
      signingSecret: secrets.events,
      authorizationSigningSecret: secrets.asa,
      apiKey: at.lithic.apiKey,
      apiBaseUrl: at.lithic.url,
    },
    o,
  );
  const partnerCardId = card.partnerCardId;
  if (!at.lithic.cards.has(partnerCardId)) throw new Error(`Lithic made no card ${partnerCardId}`);
  const tokens = new Map<string, string>();
  const token = (tx: string) => tokens.get(tx) ?? tokens.set(tx, crypto.randomUUID()).get(tx)!;
  const history = new Map<string, Lithic.Transaction.Event[]>();
  const held = new Map<string, number>();
  const raws = new Map<string, string>();
  const sendRaw = (raw: string, secret: string) => post(h, sub.url, raw, lithicHeaders(raw, secret));
  /** Another entry of a transaction's cumulative `events[]`, sent with all before it. */
  const entry = async (tx: string, e: Lithic.Transaction.Event) => {
    const events = [...(history.get(tx) ?? []), e];
    history.set(tx, events);
    const body = cardTransactionUpdated(
      lithicTransaction(events, { token: token(tx), card_token: partnerCardId }),
    );
    await settled(h, await sendRaw(JSON.stringify(body), secrets.events), events.length);
  };
  const cardUpdate = async (state: string, previous: string) => {
    const body = {
      event_type: 'card.updated',
      card_token: partnerCardId,
      state,
      previous_fields: { state: previous },
    };
    await settled(h, await sendRaw(JSON.stringify(body), secrets.events), 1);
  };
  const asaCard = lithicAsa().card;
  return {
    name: 'lithic',
    t,
    card: { id: card.id, partnerCardId },
    secrets,
    sub,
    sendEntry: entry,
    async authorize(tx, amount, opts = {}) {
      const raw = JSON.stringify(
        lithicAsa(
          {
            token: token(tx),
            created: new Date().toISOString(),
            card: { ...asaCard, token: partnerCardId },
            ...(opts.partialApproval ? { pos: partialCapable() } : {}),
          },
          amount,
        ),
      );
      raws.set(tx, raw);
      return sendRaw(raw, secrets.asa);
    },
    redeliverAuthorize: (tx) => sendRaw(raws.get(tx)!, secrets.asa),
    decided: (tx, approved, amount) => {
      held.set(tx, approved ? amount : 0);
      return entry(
        tx,
        lithicEvent('AUTHORIZATION', amount, approved ? {} : { result: 'USER_TRANSACTION_LIMIT' }),
      );
    },
    capture: (tx, amount) => entry(tx, lithicEvent('CLEARING', amount)),
    reverse: (tx, amount) => entry(tx, lithicEvent('AUTHORIZATION_REVERSAL', amount)),
    expire: (tx) => entry(tx, lithicEvent('AUTHORIZATION_EXPIRY', held.get(tx) ?? 0)),
    refundUnlinked: (id, amount) => entry(uniq(id), lithicEvent('RETURN', amount)),
    forceCapture: (id, amount) => entry(uniq(id), lithicEvent('CLEARING', amount)),
    freeze: () => cardUpdate('PAUSED', 'OPEN'),
    cancel: () => cardUpdate('CLOSED', 'PAUSED'),
  };
}

/** A partner's answer, read the same way for all three: approved and the amount approved. */
export function readAnswer(
  driver: string,
  reply: Reply,
  asked: number,
): { approved: boolean; amount: number } {
  const b = reply.body;
  if (driver === 'stripe')
    return { approved: b.approved === true, amount: b.approved ? (b.amount ?? asked) : 0 };
  if (driver === 'lithic')
    return {
      approved: b.result === 'APPROVED',
      amount: b.result === 'APPROVED' ? (b.approved_amount ?? asked) : 0,
    };
  return { approved: b.approved === true, amount: b.approved ? (b.approvedAmount ?? asked) : 0 };
}

/** The books as an app sees them, without ids, times and merchants (which are each partner's own). */
export async function books(h: Harness, d: PartnerDriver) {
  const card = (await h.request('GET', `/v1/cards/${d.card.id}`, { key: d.t.appKey })).body;
  const txs = (await h.request('GET', `/v1/cards/${d.card.id}/transactions?limit=100`, { key: d.t.appKey }))
    .body.data as Array<Record<string, unknown>>;
  const rows = txs
    .map((x) => ({
      status: x.status,
      currency: x.currency,
      authorizedAmount: x.authorizedAmount,
      heldAmount: x.heldAmount,
      capturedAmount: x.capturedAmount,
      refundedAmount: x.refundedAmount,
      reversedAmount: x.reversedAmount,
      declined: x.declineCode !== null,
      flags: x.flags,
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { status: card.status, balances: card.balances, transactions: rows };
}
