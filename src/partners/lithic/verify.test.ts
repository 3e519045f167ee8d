import crypto from 'node:crypto';
import Lithic from 'lithic';
import Stripe from 'stripe';
import type { InboundDelivery } from '../adapter';
import { verifyStripe } from '../stripe/verify';
import {
  cardUpdated,
  lithicAsa,
  lithicDelivery,
  lithicHeaders,
  lithicSecret,
} from '../../../test/helpers/lithic-fixtures';
import { verifyLithic } from './verify';

const SECRET = lithicSecret();
const NEXT = lithicSecret();
const ASA_SECRET = lithicSecret();
const check = { checkTimestamp: true };
const body = cardUpdated('PAUSED', 'OPEN');
const sdk = new Lithic({ apiKey: 'test-key', webhookSecret: null });

/** What the Lithic SDK itself says of a delivery (it counts the tolerance to now). */
function sdkAccepts(d: InboundDelivery, secret: string): boolean {
  try {
    sdk.webhooks.verifySignature(d.rawBody.toString('utf8'), d.headers, secret);
    return true;
  } catch {
    return false;
  }
}

describe('Lithic signature verification (Standard Webhooks)', () => {
  it('accepts what standardwebhooks’ Webhook#sign signed with the subscription’s secret', () => {
    expect(verifyLithic(lithicDelivery(body, SECRET), { current: SECRET }, check)).toEqual({
      ok: true,
      secretUsed: 'current',
    });
  });

  it('rejects a wrong secret, a missing header and a tampered body', () => {
    expect(verifyLithic(lithicDelivery(body, NEXT), { current: SECRET }, check)).toEqual({
      ok: false,
      reason: 'No matching signature found',
    });
    for (const h of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const d = lithicDelivery(body, SECRET);
      delete d.headers[h];
      expect(verifyLithic(d, { current: SECRET }, check)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/missing/),
      });
    }
    const d = lithicDelivery(body, SECRET);
    d.rawBody = Buffer.from(d.rawBody.toString().replace('PAUSED', 'OPEN'));
    expect(verifyLithic(d, { current: SECRET }, check)).toMatchObject({ ok: false });
  });

  it('counts 300 s both ways to when the delivery was stored', () => {
    const at = 1_764_496_800;
    const receivedAfter = (s: number) =>
      verifyLithic(
        lithicDelivery(body, SECRET, { at, receivedAtMs: (at + s) * 1000 }),
        { current: SECRET },
        check,
      );
    expect(receivedAfter(300)).toMatchObject({ ok: true });
    expect(receivedAfter(301)).toEqual({ ok: false, reason: 'Message timestamp too old' });
    expect(receivedAfter(-301)).toEqual({ ok: false, reason: 'Message timestamp too new' });
    // A replay checks the signature alone.
    const old = lithicDelivery(body, SECRET, { at, receivedAtMs: (at + 86_400) * 1000 });
    expect(verifyLithic(old, { current: SECRET }, { checkTimestamp: false })).toMatchObject({ ok: true });
    expect(
      verifyLithic(lithicDelivery(body, NEXT, { at }), { current: SECRET }, { checkTimestamp: false }),
    ).toMatchObject({
      ok: false,
    });
  });

  it('accepts either of two space-separated signatures (rotation), the previous secret, and ASA’s own secret', () => {
    const both = lithicDelivery(body, [NEXT, SECRET]);
    expect(both.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(verifyLithic(both, { current: SECRET }, check)).toMatchObject({ ok: true });
    expect(verifyLithic(lithicDelivery(body, SECRET), { current: NEXT, previous: SECRET }, check)).toEqual({
      ok: true,
      secretUsed: 'previous',
    });
    const asa = lithicDelivery(lithicAsa(), ASA_SECRET);
    expect(verifyLithic(asa, { current: SECRET, authorization: ASA_SECRET }, check)).toEqual({
      ok: true,
      secretUsed: 'authorization',
    });
    expect(verifyLithic(asa, { current: SECRET }, check)).toMatchObject({ ok: false });
  });

  it('is the base64-key trap both ways: a Stripe-style signature fails here, a Lithic one fails at Stripe', () => {
    const raw = JSON.stringify(body);
    const at = Math.floor(Date.now() / 1000);
    // Signed over id.ts.body but keyed with the secret string as it is (Stripe's way): no match.
    const wrongKey = crypto.createHmac('sha256', SECRET).update(`msg_1.${at}.${raw}`).digest('base64');
    const d: InboundDelivery = {
      headers: {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(at),
        'webhook-signature': `v1,${wrongKey}`,
      },
      rawBody: Buffer.from(raw),
      receivedAtMs: at * 1000,
    };
    expect(verifyLithic(d, { current: SECRET }, check)).toMatchObject({ ok: false });
    // A Stripe secret decodes to some key all the same (the trap: no error, just another key), so a
    // signature keyed with it as Stripe keys (the raw string) never matches either.
    const stripeSecret = 'whsec_5f3c1a9e7b2d4f6a8c0e1b3d5f7a9c2e';
    const rawKeyed = crypto.createHmac('sha256', stripeSecret).update(`msg_1.${at}.${raw}`).digest('base64');
    const fromStripeSecret = { ...d, headers: { ...d.headers, 'webhook-signature': `v1,${rawKeyed}` } };
    expect(verifyLithic(fromStripeSecret, { current: stripeSecret }, check)).toEqual({
      ok: false,
      reason: 'No matching signature found',
    });
    // The Lithic-signed delivery (its Standard Webhooks secret), offered to the Stripe adapter with
    // a Stripe-Signature made from the decoded key: Stripe keys with the raw string, so no match.
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const hex = crypto.createHmac('sha256', key).update(`${at}.${raw}`).digest('hex');
    const asStripe: InboundDelivery = { ...d, headers: { 'stripe-signature': `t=${at},v1=${hex}` } };
    expect(verifyStripe(asStripe, { current: SECRET }, check)).toMatchObject({ ok: false });
    const right = Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: SECRET, timestamp: at });
    expect(
      verifyStripe({ ...asStripe, headers: { 'stripe-signature': right } }, { current: SECRET }, check),
    ).toMatchObject({
      ok: true,
    });
  });

  it('agrees with the Lithic SDK’s verifySignature on every delivery verified as it arrives', () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, InboundDelivery, string]> = [
      ['signed', lithicDelivery(body, SECRET), SECRET],
      ['wrong secret', lithicDelivery(body, NEXT), SECRET],
      ['rotation', lithicDelivery(body, [NEXT, SECRET]), SECRET],
      ['6 min old', lithicDelivery(body, SECRET, { at: now - 360, receivedAtMs: Date.now() }), SECRET],
      ['6 min ahead', lithicDelivery(body, SECRET, { at: now + 360, receivedAtMs: Date.now() }), SECRET],
      [
        'tampered',
        { ...lithicDelivery(body, SECRET), rawBody: Buffer.from(JSON.stringify({ ...body, state: 'OPEN' })) },
        SECRET,
      ],
      [
        'v2 only',
        {
          ...lithicDelivery(body, SECRET),
          headers: { ...lithicHeaders(JSON.stringify(body), SECRET), 'webhook-signature': 'v2,abc' },
        },
        SECRET,
      ],
    ];
    for (const [name, d, secret] of cases)
      expect([name, verifyLithic(d, { current: secret }, check).ok]).toEqual([name, sdkAccepts(d, secret)]);
  });
});
