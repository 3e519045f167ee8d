import type Lithic from 'lithic';
import type { CanonicalEvent } from '../../domain/events';
import {
  applyMoneyEvent,
  emptyLedger,
  heldOf,
  ops,
  statusOf,
  totals,
  upsert,
  type Ledger,
} from '../../domain/ledger';
import {
  cardTransactionUpdated,
  cardUpdated,
  LITHIC_CARD,
  lithicAsa,
  lithicDelivery,
  lithicEvent,
  lithicSecret,
  lithicTransaction,
  partialCapable,
} from '../../../test/helpers/lithic-fixtures';
import { alpha3ToAlpha2 } from './countries';
import { normalizeLithic } from './normalize';

const SECRET = lithicSecret();
const TX = '7842e70e-2b17-47ca-8541-869636bedf6a';
const AT = 1_764_496_800;
const normalize = (body: object, id = 'msg_1') =>
  normalizeLithic(lithicDelivery(body, SECRET, { id, at: AT }));
const eventsOf = (body: object) => {
  const r = normalize(body);
  if (!r.ok) throw new Error(`not normalized: ${JSON.stringify(r)}`);
  return r.events;
};
const updated = (events: Lithic.Transaction.Event[], over: Partial<Lithic.Transaction> = {}) =>
  eventsOf(cardTransactionUpdated(lithicTransaction(events, over)));
const merchant = { name: 'COFFEE SHOP', mcc: '5812', country: 'US', region: 'US-NY' };
const money = (e: CanonicalEvent) => e as Parameters<typeof applyMoneyEvent>[1];
/** Applies events once per id, like the card workflow. */
function books(events: CanonicalEvent[], start: Ledger = emptyLedger(), seen = new Set<string>()): Ledger {
  let l = start;
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    l = applyMoneyEvent(l, money(e), 'USD').ledger;
  }
  return l;
}

describe('Lithic normalization (partners.md §5.3)', () => {
  describe('Auth Stream Access (a body without event_type)', () => {
    it('an AUTHORIZATION is a request keyed asa:<token>', () => {
      expect(normalize(lithicAsa())).toEqual({
        ok: true,
        eventId: `asa:${TX}`,
        type: 'card_authorization.approval_request',
        events: [
          {
            kind: 'authorization.request',
            eventId: `asa:${TX}`,
            partner: 'lithic',
            partnerCardId: LITHIC_CARD,
            transactionId: TX,
            amount: 5_200,
            currency: 'USD',
            merchant,
            partialApproval: false,
            occurredAtMs: Date.parse('2026-11-30T10:00:00.000Z'),
          },
        ],
      });
      // Lithic's retry of the same request carries the same token: the same id, the same answer.
      const again = normalize(lithicAsa(), 'msg_other');
      expect(again.ok && again.events[0]!.eventId).toBe(`asa:${TX}`);
    });

    it('also with event_type card_authorization.approval_request, and with the terminal’s partial approval and cash back', () => {
      const body = {
        ...lithicAsa({ pos: partialCapable(), cash_amount: 2_000 }),
        event_type: 'card_authorization.approval_request',
      };
      expect(eventsOf(body)).toMatchObject([
        { kind: 'authorization.request', partialApproval: true, cashbackAmount: 2_000 },
      ]);
    });

    it('a FINANCIAL_AUTHORIZATION (settles at once) is the card’s to decide too', () => {
      expect(eventsOf(lithicAsa({ status: 'FINANCIAL_AUTHORIZATION' }))).toMatchObject([
        { kind: 'authorization.request', amount: 5_200 },
      ]);
    });

    it('a BALANCE_INQUIRY is answered APPROVED by the adapter, with nothing for the card', () => {
      expect(normalize(lithicAsa({ status: 'BALANCE_INQUIRY' }, 0))).toEqual({
        ok: true,
        eventId: `asa:${TX}`,
        type: 'card_authorization.approval_request',
        events: [],
        reply: {
          status: 200,
          headers: { 'Content-Type': 'application/json' },
          body: { token: TX, result: 'APPROVED' },
        },
      });
    });

    it('credit authorizations are approved (their money counts when the RETURN settles)', () => {
      for (const status of ['CREDIT_AUTHORIZATION', 'FINANCIAL_CREDIT_AUTHORIZATION'] as const)
        expect(normalize(lithicAsa({ status }))).toMatchObject({
          ok: true,
          events: [],
          reply: { body: { token: TX, result: 'APPROVED' } },
        });
    });

    it('an ASA body it cannot read is unparseable, named by its token', () => {
      expect(normalize({ ...lithicAsa(), amounts: null })).toMatchObject({
        ok: false,
        reason: 'unparseable',
        eventId: `asa:${TX}`,
      });
    });
  });

  describe('card_transaction.updated: one event per events[] entry, keyed by its token', () => {
    const auth = lithicEvent('AUTHORIZATION', 1_000);
    const clearing = lithicEvent('CLEARING', 1_000);

    it('AUTHORIZATION: the partner’s decision (confirms ours when we answered its ASA)', () => {
      const [advice] = updated([auth]);
      expect(advice).toEqual({
        kind: 'authorization.advice',
        eventId: auth.token,
        partner: 'lithic',
        partnerCardId: LITHIC_CARD,
        transactionId: TX,
        approved: true,
        amount: 1_000,
        currency: 'USD',
        merchant,
        occurredAtMs: Date.parse(auth.created),
      });
      const ours = upsert(emptyLedger(), TX, 0, 'USD', (e) => ops.authorize(e, 1_000, merchant)).ledger;
      expect(books([advice!], ours).entries[0]).toEqual(ours.entries[0]);
      const declined = lithicEvent('AUTHORIZATION', 1_000, { result: 'CARD_PAUSED' });
      expect(updated([declined])).toMatchObject([
        { kind: 'authorization.advice', approved: false, declineCode: 'CARD_PAUSED' },
      ]);
    });

    it('CLEARING: a clearing of the transaction; the cumulative list yields the same ids on every delivery', () => {
      const first = updated([auth]);
      const second = updated([auth, clearing]);
      expect(second.map((e) => e.eventId)).toEqual([auth.token, clearing.token]);
      expect(second[1]).toMatchObject({
        kind: 'clearing',
        transactionId: TX,
        amount: 1_000,
        currency: 'USD',
      });
      // The redelivered AUTHORIZATION is the same event: applied once.
      const seen = new Set<string>();
      const l = books(second, books(first, emptyLedger(), seen), seen);
      expect(totals(l)).toEqual({ held: 0, captured: 1_000, refunded: 0 });
    });

    it('AUTHORIZATION_ADVICE is the new total: a rise is a partner adjustment, a fall a reversal', () => {
      const up = lithicEvent('AUTHORIZATION_ADVICE', 2_000);
      const down = lithicEvent('AUTHORIZATION_ADVICE', 1_500);
      const evs = updated([auth, up, down]);
      expect(evs.slice(1)).toEqual([
        expect.objectContaining({
          kind: 'authorization.adjustment',
          eventId: up.token,
          transactionId: TX,
          amount: 1_000,
        }),
        expect.objectContaining({ kind: 'authorization.reversal', eventId: down.token, amount: 500 }),
      ]);
      expect(heldOf(books(evs).entries[0]!)).toBe(1_500);
      // The first word of a transaction Lithic decided alone: advice for its total.
      expect(updated([lithicEvent('AUTHORIZATION_ADVICE', 700)])).toMatchObject([
        { kind: 'authorization.advice', approved: true, amount: 700 },
      ]);
      // A declined advice (after a timeout's reversal) changes nothing.
      expect(
        updated([auth, lithicEvent('AUTHORIZATION_ADVICE', 1_000, { result: 'DECLINED' })]),
      ).toHaveLength(1);
    });

    it('AUTHORIZATION_REVERSAL (partial leaves the rest held) and AUTHORIZATION_EXPIRY', () => {
      const partial = lithicEvent('AUTHORIZATION_REVERSAL', 400);
      const evs = updated([auth, partial]);
      expect(evs[1]).toMatchObject({ kind: 'authorization.reversal', eventId: partial.token, amount: 400 });
      expect(heldOf(books(evs).entries[0]!)).toBe(600);
      const expiry = lithicEvent('AUTHORIZATION_EXPIRY', 600);
      const expired = updated([auth, partial, expiry]);
      expect(expired[2]).toMatchObject({
        kind: 'authorization.expiry',
        eventId: expiry.token,
        transactionId: TX,
      });
      expect(statusOf(books(expired).entries[0]!)).toBe('expired');
      // A clearing may still follow an expiry.
      const late = updated([auth, partial, expiry, lithicEvent('CLEARING', 600)]);
      expect(totals(books(late))).toEqual({ held: 0, captured: 600, refunded: 0 });
    });

    it('RETURN: a refund of its own transaction, linked to no purchase', () => {
      const ret = lithicEvent('RETURN', 300);
      const [refund] = updated([ret], { token: 'c0ffee00-0000-4000-8000-000000000001' });
      expect(refund).toEqual({
        kind: 'refund',
        eventId: ret.token,
        partner: 'lithic',
        partnerCardId: LITHIC_CARD,
        refundId: 'c0ffee00-0000-4000-8000-000000000001',
        amount: 300,
        currency: 'USD',
        occurredAtMs: Date.parse(ret.created),
      });
      // A credit authorization before it moves nothing by itself.
      expect(updated([lithicEvent('CREDIT_AUTHORIZATION', 300), ret]).map((e) => e.kind)).toEqual(['refund']);
    });

    it('FINANCIAL_AUTHORIZATION: decided and settled at once (advice and clearing)', () => {
      const fin = lithicEvent('FINANCIAL_AUTHORIZATION', 2_000);
      const evs = updated([fin]);
      expect(evs.map((e) => [e.kind, e.eventId])).toEqual([
        ['authorization.advice', fin.token],
        ['clearing', `${fin.token}:clearing`],
      ]);
      expect(totals(books(evs))).toEqual({ held: 0, captured: 2_000, refunded: 0 });
    });

    it('RETURN_REVERSAL and CORRECTION_*: flagged for review, no money', () => {
      const ret = lithicEvent('RETURN', 300);
      const rr = lithicEvent('RETURN_REVERSAL', 300);
      const evs = updated([ret, rr]);
      expect(evs[1]).toMatchObject({
        kind: 'transaction.review',
        eventId: rr.token,
        transactionId: `refund:${TX}`,
        partnerType: 'RETURN_REVERSAL',
        amount: 300,
        direction: 'debit',
      });
      const l = books(evs);
      expect(totals(l)).toEqual({ held: 0, captured: 0, refunded: 300 });
      expect(l.entries[0]!.flags).toContain('manual_review');
      expect(updated([auth, lithicEvent('CORRECTION_CREDIT', 50)])[1]).toMatchObject({
        kind: 'transaction.review',
        transactionId: TX,
        partnerType: 'CORRECTION_CREDIT',
        direction: 'credit',
      });
    });

    it('maps the merchant country alpha-3 → alpha-2 and the state to a region', () => {
      const m = { ...lithicTransaction([]).merchant, country: 'QZZ', state: '' };
      expect(updated([auth], { merchant: m })[0]).toMatchObject({ merchant: { country: 'XK', mcc: '5812' } });
      expect(updated([auth], { merchant: { ...m, country: 'CAN', state: 'ON' } })[0]).toMatchObject({
        merchant: { country: 'CA', region: 'CA-ON' },
      });
    });

    it('needs a webhook-id (the delivery’s name); a malformed entry is unparseable', () => {
      const d = lithicDelivery(cardTransactionUpdated(lithicTransaction([auth])), SECRET);
      delete d.headers['webhook-id'];
      expect(normalizeLithic(d)).toMatchObject({ ok: false, reason: 'unparseable' });
      const bad = cardTransactionUpdated(
        lithicTransaction([{ ...auth, effective_polarity: 'SIDEWAYS' as 'DEBIT' }]),
      );
      expect(normalize(bad)).toMatchObject({ ok: false, reason: 'unparseable', eventId: 'msg_1' });
    });
  });

  describe('card.updated', () => {
    it('OPEN / PAUSED / CLOSED → active / frozen / canceled, with the state before, at the end of the header’s second', () => {
      expect(normalize(cardUpdated('PAUSED', 'OPEN'), 'msg_card')).toEqual({
        ok: true,
        eventId: 'msg_card',
        type: 'card.updated',
        events: [
          {
            kind: 'card.status',
            eventId: 'msg_card',
            partner: 'lithic',
            partnerCardId: LITHIC_CARD,
            status: 'frozen',
            previousStatus: 'active',
            occurredAtMs: AT * 1000 + 999,
          },
        ],
      });
      expect(eventsOf(cardUpdated('CLOSED', 'PAUSED'))).toMatchObject([
        { status: 'canceled', previousStatus: 'frozen' },
      ]);
      expect(eventsOf(cardUpdated('OPEN', 'PAUSED'))).toMatchObject([{ status: 'active' }]);
    });

    it('PENDING_* states and changes of other fields move nothing', () => {
      expect(eventsOf(cardUpdated('PENDING_FULFILLMENT', 'PENDING_ACTIVATION'))).toEqual([]);
      expect(eventsOf(cardUpdated('OPEN', null))).toEqual([]);
    });
  });

  it('answers every other event type unknown (200, ignored)', () => {
    expect(normalize({ event_type: 'card.shipped', card_token: LITHIC_CARD }, 'msg_s')).toEqual({
      ok: false,
      reason: 'unknown_type',
      eventId: 'msg_s',
      type: 'card.shipped',
    });
    expect(normalizeLithic({ ...lithicDelivery({}, SECRET), rawBody: Buffer.from('nope') })).toMatchObject({
      ok: false,
      reason: 'unparseable',
    });
  });
});

describe('alpha-3 → alpha-2', () => {
  it('knows every ISO country, Kosovo and the Netherlands Antilles', () => {
    expect(alpha3ToAlpha2('USA')).toBe('US');
    expect(alpha3ToAlpha2('deu')).toBe('DE');
    expect(alpha3ToAlpha2('QZZ')).toBe('XK');
    expect(alpha3ToAlpha2('XKX')).toBe('XK');
    expect(alpha3ToAlpha2('ANT')).toBe('AN');
    expect(alpha3ToAlpha2('ZZZ')).toBeNull();
    expect(alpha3ToAlpha2(null)).toBeNull();
  });
});
