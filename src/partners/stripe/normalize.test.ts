import type Stripe from 'stripe';
import { applyMoneyEvent, emptyLedger, heldOf, ops, upsert } from '../../domain/ledger';
import {
  pendingRequest,
  requestHistory,
  stripeAuthorization,
  stripeBody,
  stripeCard,
  stripeEvent,
  stripeTransaction,
} from '../../../test/helpers/stripe-fixtures';
import type { CanonicalEvent } from '../../domain/events';
import { partnerStatusChange } from '../../domain/partner-status';
import { normalizeStripe } from './normalize';

const AUTH = 'iauth_1Pgc77B7WZ01zgkWn0SmtHBY';
const CARD = 'ic_1Pgag5B7WZ01zgkWephORn8N';
const T = 1_764_623_000;
const normalize = (event: object) => normalizeStripe(Buffer.from(stripeBody(event)));
const eventsOf = (event: object) => {
  const r = normalize(event);
  if (!r.ok) throw new Error(`not normalized: ${JSON.stringify(r)}`);
  return r.events;
};
const merchant = { name: 'Rocket Rides', mcc: '4121', country: 'US', region: 'US-CA' };
const money = (e: CanonicalEvent) => e as Parameters<typeof applyMoneyEvent>[1];

describe('Stripe normalization (partners.md §5.3)', () => {
  describe('issuing_authorization.request', () => {
    it('is a request for pending_request.amount while the authorization holds nothing', () => {
      const ev = stripeEvent<Stripe.IssuingAuthorizationRequestEvent>(
        'issuing_authorization.request',
        stripeAuthorization(),
        { id: 'evt_req1' },
      );
      expect(normalize(ev)).toEqual({
        ok: true,
        eventId: 'evt_req1',
        type: 'issuing_authorization.request',
        events: [
          {
            kind: 'authorization.request',
            eventId: 'evt_req1',
            partner: 'stripe',
            partnerCardId: CARD,
            transactionId: AUTH,
            amount: 700,
            currency: 'USD',
            merchant,
            partialApproval: false,
            occurredAtMs: T * 1000,
          },
        ],
      });
    });

    it('carries whether Stripe takes a smaller amount, and the cash back a partial approval must cover', () => {
      const a = stripeAuthorization({
        pending_request: pendingRequest(5_000, {
          is_amount_controllable: true,
          amount_details: { atm_fee: null, cashback_amount: 2_000 },
        }),
      });
      expect(eventsOf(stripeEvent('issuing_authorization.request', a))).toMatchObject([
        { kind: 'authorization.request', amount: 5_000, partialApproval: true, cashbackAmount: 2_000 },
      ]);
    });

    it('is an increment of pending_request.amount on an authorization already holding money', () => {
      const a = stripeAuthorization({ amount: 1_000, approved: true, pending_request: pendingRequest(500) });
      expect(eventsOf(stripeEvent('issuing_authorization.request', a, { id: 'evt_inc' }))).toEqual([
        {
          kind: 'authorization.increment',
          eventId: 'evt_inc',
          partner: 'stripe',
          partnerCardId: CARD,
          transactionId: AUTH,
          amount: 500,
          occurredAtMs: T * 1000,
        },
      ]);
    });

    it('is unparseable without a pending request', () => {
      const a = stripeAuthorization({ pending_request: null });
      expect(normalize(stripeEvent('issuing_authorization.request', a))).toMatchObject({
        ok: false,
        reason: 'unparseable',
        type: 'issuing_authorization.request',
      });
    });
  });

  describe('issuing_authorization.created', () => {
    const created = (a: Stripe.Issuing.Authorization) =>
      eventsOf(stripeEvent<Stripe.IssuingAuthorizationCreatedEvent>('issuing_authorization.created', a));

    it('after our answer: advice marked requested, which the card’s books absorb without adding to them', () => {
      const a = stripeAuthorization({
        amount: 700,
        approved: true,
        pending_request: null,
        request_history: [requestHistory(700, true, 'webhook_approved')],
      });
      const [advice] = created(a);
      expect(advice).toEqual({
        kind: 'authorization.advice',
        eventId: `${AUTH}:decision`,
        partner: 'stripe',
        partnerCardId: CARD,
        transactionId: AUTH,
        approved: true,
        amount: 700,
        currency: 'USD',
        merchant,
        requested: true,
        occurredAtMs: T * 1000,
      });
      // The card approved the request (700 held); Stripe's confirmation changes nothing.
      const ours = upsert(emptyLedger(), AUTH, T * 1000, 'USD', (e) =>
        ops.authorize(e, 700, merchant),
      ).ledger;
      const after = applyMoneyEvent(ours, money(advice!), 'USD');
      expect(after.entry).toEqual(ours.entries[0]);
    });

    it('when Stripe did not ask (its spending controls declined): advice with Stripe’s reason', () => {
      const a = stripeAuthorization({
        pending_request: null,
        request_history: [requestHistory(900, false, 'spending_controls')],
      });
      expect(created(a)).toMatchObject([
        {
          kind: 'authorization.advice',
          approved: false,
          amount: 900,
          declineCode: 'spending_controls',
          requested: false,
        },
      ]);
    });

    it('when our answer came too late (webhook_timeout): Stripe’s decision, which wins over ours', () => {
      const a = stripeAuthorization({
        amount: 700,
        approved: true,
        pending_request: null,
        request_history: [requestHistory(700, true, 'webhook_timeout')],
      });
      const [advice] = created(a);
      expect(advice).toMatchObject({
        kind: 'authorization.advice',
        approved: true,
        amount: 700,
        requested: true,
      });
      // The card declined (or never decided): Stripe approved by its timeout rule, so 700 is held.
      const ours = upsert(emptyLedger(), AUTH, T * 1000, 'USD', (e) => ops.decline(e, 'STAND_IN')).ledger;
      expect(heldOf(applyMoneyEvent(ours, money(advice!), 'USD').entry)).toBe(700);
    });
  });

  describe('issuing_authorization.updated', () => {
    const updated = (a: Stripe.Issuing.Authorization, previous: Partial<Stripe.Issuing.Authorization>) =>
      eventsOf(
        stripeEvent<Stripe.IssuingAuthorizationUpdatedEvent>('issuing_authorization.updated', a, {
          previous,
        }),
      );
    const held = (amount: number, over: Partial<Stripe.Issuing.Authorization> = {}) =>
      stripeAuthorization({
        amount,
        approved: true,
        pending_request: null,
        request_history: [requestHistory(2_500, true, 'webhook_approved')],
        ...over,
      });

    it('status reversed: a reversal of what the amount fell by', () => {
      expect(updated(held(0, { status: 'reversed' }), { amount: 2_500, status: 'pending' })).toEqual([
        {
          kind: 'authorization.reversal',
          eventId: `${AUTH}:reversal:0`,
          partner: 'stripe',
          partnerCardId: CARD,
          transactionId: AUTH,
          amount: 2_500,
          occurredAtMs: T * 1000,
        },
      ]);
    });

    it('still pending, the amount down: a partial reversal', () => {
      expect(updated(held(1_000), { amount: 2_500 })).toMatchObject([
        { kind: 'authorization.reversal', eventId: `${AUTH}:reversal:1000`, amount: 1_500 },
      ]);
    });

    it('status expired: an expiry', () => {
      expect(updated(held(0, { status: 'expired' }), { amount: 2_500, status: 'pending' })).toMatchObject([
        { kind: 'authorization.expiry', eventId: `${AUTH}:expiry`, transactionId: AUTH },
      ]);
    });

    it('status closed (captured): no money, the capture comes as a transaction', () => {
      expect(updated(held(2_500, { status: 'closed' }), { status: 'pending' })).toEqual([]);
      expect(
        normalize(stripeEvent('issuing_authorization.updated', held(0, { status: 'closed' }))),
      ).toMatchObject({
        ok: true,
        events: [],
      });
    });

    it('an amount rise we approved (the request in this update): no money, the card holds it already', () => {
      const a = held(3_000, {
        request_history: [
          requestHistory(2_500, true, 'webhook_approved'),
          requestHistory(500, true, 'webhook_approved'),
        ],
      });
      expect(
        updated(a, { amount: 2_500, request_history: [requestHistory(2_500, true, 'webhook_approved')] }),
      ).toEqual([]);
    });

    it('an amount rise Stripe decided (no request, or our answer too late): a partner adjustment', () => {
      expect(updated(held(10_000), { amount: 100 })).toEqual([
        {
          kind: 'authorization.adjustment',
          eventId: `${AUTH}:adjustment:10000`,
          partner: 'stripe',
          partnerCardId: CARD,
          transactionId: AUTH,
          amount: 9_900,
          occurredAtMs: T * 1000,
        },
      ]);
      const late = held(3_000, {
        request_history: [
          requestHistory(2_500, true, 'webhook_approved'),
          requestHistory(500, true, 'webhook_timeout'),
        ],
      });
      expect(
        updated(late, { amount: 2_500, request_history: [requestHistory(2_500, true, 'webhook_approved')] }),
      ).toMatchObject([{ kind: 'authorization.adjustment', amount: 500 }]);
    });
  });

  describe('issuing_transaction.created', () => {
    const created = (t: Stripe.Issuing.Transaction) =>
      eventsOf(stripeEvent<Stripe.IssuingTransactionCreatedEvent>('issuing_transaction.created', t));

    it('a capture (negative amount) is a clearing of its authorization, positive', () => {
      expect(created(stripeTransaction({ amount: -2_500 }))).toEqual([
        {
          kind: 'clearing',
          eventId: 'ipi_1Pgc78B7WZ01zgkWuDwuyAOr',
          partner: 'stripe',
          partnerCardId: CARD,
          transactionId: AUTH,
          amount: 2_500,
          currency: 'USD',
          occurredAtMs: T * 1000,
        },
      ]);
    });

    it('a force capture (no authorization) is a clearing of its own transaction', () => {
      expect(
        created(stripeTransaction({ id: 'ipi_force', amount: -800, authorization: null })),
      ).toMatchObject([{ kind: 'clearing', transactionId: 'ipi_force', amount: 800 }]);
    });

    it('a refund (positive amount) is a refund, linked to its authorization when Stripe says', () => {
      expect(created(stripeTransaction({ id: 'ipi_ref', type: 'refund', amount: 1_000 }))).toEqual([
        {
          kind: 'refund',
          eventId: 'ipi_ref',
          partner: 'stripe',
          partnerCardId: CARD,
          refundId: 'ipi_ref',
          transactionId: AUTH,
          amount: 1_000,
          currency: 'USD',
          occurredAtMs: T * 1000,
        },
      ]);
      const [unlinked] = created(
        stripeTransaction({ id: 'ipi_ref2', type: 'refund', amount: 300, authorization: null }),
      );
      expect(unlinked).toMatchObject({ kind: 'refund', refundId: 'ipi_ref2', amount: 300 });
      expect(unlinked).not.toHaveProperty('transactionId');
    });

    it('reads expanded card and authorization objects like their ids', () => {
      const t = stripeTransaction({ card: stripeCard(), authorization: stripeAuthorization() });
      expect(created(t)).toMatchObject([{ kind: 'clearing', partnerCardId: CARD, transactionId: AUTH }]);
    });

    it('a capture with a positive amount is flagged for review, moving no money', () => {
      expect(created(stripeTransaction({ amount: 400 }))).toMatchObject([
        {
          kind: 'transaction.review',
          transactionId: AUTH,
          partnerType: 'capture',
          amount: 400,
          direction: 'credit',
        },
      ]);
    });
  });

  describe('issuing_card.updated', () => {
    const updated = (c: Stripe.Issuing.Card, previous: Partial<Stripe.Issuing.Card>) =>
      eventsOf(
        stripeEvent<Stripe.IssuingCardUpdatedEvent>('issuing_card.updated', c, { previous, id: 'evt_card' }),
      );

    it('inactive is frozen, with the status before it and the end of Stripe’s second', () => {
      expect(updated(stripeCard({ status: 'inactive' }), { status: 'active' })).toEqual([
        {
          kind: 'card.status',
          eventId: 'evt_card',
          partner: 'stripe',
          partnerCardId: CARD,
          status: 'frozen',
          previousStatus: 'active',
          occurredAtMs: T * 1000 + 999,
        },
      ]);
    });

    it('is not taken for older than a change of ours in the same second (the §4 staleness trap)', () => {
      // Issued 100 ms into the second Stripe stamps its freeze with: still news.
      const [ev] = updated(stripeCard({ status: 'inactive' }), { status: 'active' });
      const card = { status: 'active' as const, frozenBy: null, statusChangedAtMs: T * 1000 + 100 };
      expect(partnerStatusChange(card, ev as { status: 'frozen'; occurredAtMs: number })).toMatchObject({
        kind: 'apply',
        transition: 'freeze',
      });
    });

    it('canceled, with its cancellation reason; active again is active', () => {
      expect(
        updated(stripeCard({ status: 'canceled', cancellation_reason: 'stolen' }), { status: 'inactive' }),
      ).toMatchObject([
        { kind: 'card.status', status: 'canceled', reason: 'stolen', previousStatus: 'frozen' },
      ]);
      expect(updated(stripeCard({ status: 'active' }), { status: 'inactive' })).toMatchObject([
        { status: 'active', previousStatus: 'frozen' },
      ]);
    });

    it('a change of anything but the status moves nothing', () => {
      expect(updated(stripeCard(), { metadata: { a: 'b' } })).toEqual([]);
    });
  });

  it('answers every other type unknown (200, ignored)', () => {
    const ev = stripeEvent<Stripe.IssuingCardholderCreatedEvent>(
      'issuing_cardholder.created',
      stripeAuthorization().card.cardholder,
      { id: 'evt_ch' },
    );
    expect(normalize(ev)).toEqual({
      ok: false,
      reason: 'unknown_type',
      eventId: 'evt_ch',
      type: 'issuing_cardholder.created',
    });
  });

  it('maps merchants: upper-case currency, alpha-2 country, region CC-SS, unknown country ZZ', () => {
    const a = stripeAuthorization({
      currency: 'eur',
      pending_request: pendingRequest(700, { currency: 'eur' }),
      merchant_data: { ...stripeAuthorization().merchant_data, country: null, state: null, name: null },
    });
    expect(eventsOf(stripeEvent('issuing_authorization.request', a))).toMatchObject([
      { currency: 'EUR', merchant: { mcc: '4121', country: 'ZZ' } },
    ]);
    const [ev] = eventsOf(stripeEvent('issuing_authorization.request', a));
    expect((ev as { merchant: object }).merchant).not.toHaveProperty('region');
  });

  it('calls a body it cannot read unparseable, never throws', () => {
    expect(normalizeStripe(Buffer.from('{"id": "evt_1"'))).toMatchObject({
      ok: false,
      reason: 'unparseable',
    });
    expect(normalizeStripe(Buffer.from('[1]'))).toMatchObject({ ok: false, reason: 'unparseable' });
    const broken = stripeEvent('issuing_transaction.created', stripeTransaction({ amount: 1.5 }));
    expect(normalize(broken)).toMatchObject({
      ok: false,
      reason: 'unparseable',
      eventId: broken.id,
      message: expect.stringContaining('data.object.amount'),
    });
  });
});
