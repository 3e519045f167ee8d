import crypto from 'node:crypto';
import type Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import {
  stripeAuthorization,
  stripeBody,
  stripeDelivery,
  stripeEvent,
  stripeRotationSignature,
  stripeSignature,
} from '../../../test/helpers/stripe-fixtures';
import { verifyStripe } from './verify';

/** Secrets shaped like Stripe's: `whsec_` + 32 alphanumerics, used as-is. */
const SECRET = 'whsec_5f3c1a9e7b2d4f6a8c0e1b3d5f7a9c2e';
const NEXT = 'whsec_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d';
const T = 1_764_623_000;
const event = stripeEvent<Stripe.IssuingAuthorizationRequestEvent>(
  'issuing_authorization.request',
  stripeAuthorization(),
);
const check = { checkTimestamp: true };

describe('Stripe signature verification (the SDK’s constructEvent)', () => {
  it('accepts a delivery the SDK signed with the subscription’s secret', () => {
    expect(verifyStripe(stripeDelivery(event, SECRET, { timestamp: T }), { current: SECRET }, check)).toEqual(
      {
        ok: true,
        secretUsed: 'current',
      },
    );
  });

  it('rejects a wrong secret', () => {
    const r = verifyStripe(stripeDelivery(event, NEXT, { timestamp: T }), { current: SECRET }, check);
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('No signatures found') });
  });

  it('rejects a missing header', () => {
    const d = stripeDelivery(event, SECRET, { timestamp: T });
    delete d.headers['stripe-signature'];
    expect(verifyStripe(d, { current: SECRET }, check)).toEqual({
      ok: false,
      reason: 'missing Stripe-Signature header',
    });
  });

  it('rejects a tampered body', () => {
    const d = stripeDelivery(event, SECRET, { timestamp: T });
    d.rawBody = Buffer.from(d.rawBody.toString().replace('"amount": 700', '"amount": 7'));
    expect(verifyStripe(d, { current: SECRET }, check)).toMatchObject({ ok: false });
    // Re-serialized (Stripe's bytes are pretty-printed): the same JSON, other bytes, no match.
    const compact = stripeDelivery(event, SECRET, { timestamp: T });
    compact.rawBody = Buffer.from(JSON.stringify(JSON.parse(compact.rawBody.toString())));
    expect(verifyStripe(compact, { current: SECRET }, check)).toMatchObject({ ok: false });
  });

  it('counts the 300 s tolerance to when the delivery was stored, not to now', () => {
    const at = (ageS: number) =>
      verifyStripe(
        stripeDelivery(event, SECRET, { timestamp: T, receivedAtMs: (T + ageS) * 1000 }),
        { current: SECRET },
        check,
      );
    expect(at(300)).toMatchObject({ ok: true });
    expect(at(301)).toMatchObject({ ok: false, reason: 'Timestamp outside the tolerance zone' });
    // stripe-node is one-sided: a timestamp ahead of our clock passes.
    expect(at(-600)).toMatchObject({ ok: true });
    // An operator's replay checks the signature alone.
    const stale = stripeDelivery(event, SECRET, { timestamp: T, receivedAtMs: (T + 86_400) * 1000 });
    expect(verifyStripe(stale, { current: SECRET }, { checkTimestamp: false })).toMatchObject({ ok: true });
    const forged = stripeDelivery(event, NEXT, { timestamp: T });
    expect(verifyStripe(forged, { current: SECRET }, { checkTimestamp: false })).toMatchObject({ ok: false });
  });

  it('accepts either of two v1= while Stripe rolls an endpoint’s secret', () => {
    const raw = stripeBody(event);
    const header = stripeRotationSignature(raw, [NEXT, SECRET], T);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    const d = stripeDelivery(event, SECRET, { timestamp: T, header });
    expect(verifyStripe(d, { current: SECRET }, check)).toMatchObject({ ok: true, secretUsed: 'current' });
    expect(verifyStripe(d, { current: NEXT }, check)).toMatchObject({ ok: true, secretUsed: 'current' });
  });

  it('accepts the previous secret during its overlap, and the real-time endpoint’s own secret', () => {
    const old = stripeDelivery(event, SECRET, { timestamp: T });
    expect(verifyStripe(old, { current: NEXT, previous: SECRET }, check)).toEqual({
      ok: true,
      secretUsed: 'previous',
    });
    expect(verifyStripe(old, { current: NEXT, previous: null, authorization: SECRET }, check)).toEqual({
      ok: true,
      secretUsed: 'authorization',
    });
    expect(verifyStripe(old, { current: NEXT, previous: null }, check)).toMatchObject({ ok: false });
  });

  it('falls for no Standard Webhooks signature: the whsec_ secret is the key as it is, not base64-decoded', () => {
    const raw = stripeBody(event);
    // A Lithic-style (Standard Webhooks) signer keys the HMAC with base64decode(secret after whsec_)…
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const decodedKeyHex = crypto.createHmac('sha256', key).update(`${T}.${raw}`).digest('hex');
    const d = stripeDelivery(event, SECRET, { timestamp: T, header: `t=${T},v1=${decodedKeyHex}` });
    expect(verifyStripe(d, { current: SECRET }, check)).toMatchObject({ ok: false });
    // …and Standard Webhooks headers are not Stripe's at all.
    const swh = new Webhook(SECRET);
    const sw = stripeDelivery(event, SECRET, { timestamp: T });
    delete sw.headers['stripe-signature'];
    Object.assign(sw.headers, {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(T),
      'webhook-signature': swh.sign('msg_1', new Date(T * 1000), raw),
    });
    expect(verifyStripe(sw, { current: SECRET }, check)).toMatchObject({ ok: false });
    // The raw string as the key is what the SDK itself computes.
    const rawKeyHex = crypto.createHmac('sha256', SECRET).update(`${T}.${raw}`).digest('hex');
    expect(stripeSignature(raw, SECRET, T)).toBe(`t=${T},v1=${rawKeyHex}`);
  });
});
