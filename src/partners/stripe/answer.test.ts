import Stripe from 'stripe';
import type { CanonicalEvent } from '../../domain/events';
import { formatStripeAnswer } from './answer';

type SyncEvent = Extract<CanonicalEvent, { kind: 'authorization.request' | 'authorization.increment' }>;
const request = (over: Partial<Extract<SyncEvent, { kind: 'authorization.request' }>> = {}): SyncEvent => ({
  kind: 'authorization.request',
  eventId: 'evt_1',
  partner: 'stripe',
  partnerCardId: 'ic_1',
  transactionId: 'iauth_1',
  amount: 5_000,
  currency: 'USD',
  merchant: { mcc: '5542', country: 'US' },
  occurredAtMs: 0,
  ...over,
});
const creds = { tenantId: 't', subscriptionId: 'psub_1', stripeVersion: '2025-03-31.basil' };

describe('Stripe real-time answer', () => {
  it('is a 200 with the Stripe-Version the body is written for', () => {
    const a = formatStripeAnswer(
      { approved: true, approvedAmount: 5_000 },
      { event: request(), credentials: creds },
    );
    expect(a).toEqual({
      status: 200,
      headers: { 'Stripe-Version': '2025-03-31.basil', 'Content-Type': 'application/json' },
      body: { approved: true },
    });
    const pinned = formatStripeAnswer({ approved: true }, { event: request(), credentials: null });
    expect(pinned.headers).toMatchObject({ 'Stripe-Version': Stripe.API_VERSION });
  });

  it('puts our decline code in metadata', () => {
    expect(
      formatStripeAnswer(
        { approved: false, declineCode: 'EXCEEDS_SPENDING_LIMIT' },
        { event: request(), credentials: creds },
      ).body,
    ).toEqual({ approved: false, metadata: { vcn_decline_code: 'EXCEEDS_SPENDING_LIMIT' } });
  });

  it('sends amount for a partial approval only where Stripe lets us choose it', () => {
    const partial = { approved: true, approvedAmount: 3_000 };
    expect(
      formatStripeAnswer(partial, { event: request({ partialApproval: true }), credentials: creds }).body,
    ).toEqual({ approved: true, amount: 3_000 });
    // Not controllable: Stripe would hold all of it, so a smaller approval is a decline.
    expect(
      formatStripeAnswer(partial, { event: request({ partialApproval: false }), credentials: creds }).body,
    ).toEqual({ approved: false, metadata: { vcn_decline_code: 'PARTIAL_APPROVAL_NOT_ALLOWED' } });
  });

  it('answers an increment the same way', () => {
    const inc: SyncEvent = {
      kind: 'authorization.increment',
      eventId: 'evt_2',
      partner: 'stripe',
      partnerCardId: 'ic_1',
      transactionId: 'iauth_1',
      amount: 500,
      occurredAtMs: 0,
    };
    expect(
      formatStripeAnswer({ approved: true, duplicate: true }, { event: inc, credentials: creds }).body,
    ).toEqual({
      approved: true,
    });
  });
});
