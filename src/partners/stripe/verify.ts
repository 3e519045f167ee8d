import Stripe from 'stripe';
import type { InboundDelivery, SignatureCheck, SubscriptionSecrets } from '../adapter';
import { candidateSecrets } from '../common';

/** stripe-node's default, counted back from when the delivery was stored (one-sided: past only). */
export const STRIPE_TOLERANCE_S = 300;

/**
 * `Stripe-Signature: t=…,v1=…[,v1=…]` checked with the SDK's `constructEvent`: the HMAC key is the
 * whole `whsec_…` string (no base64 decoding), any `v1=` may match (Stripe signs with old and new
 * secret while an endpoint's secret rolls), and the timestamp may be at most 300 s older than
 * `delivery.receivedAtMs`. Each of the subscription's secrets is tried. `checkTimestamp: false` (an
 * operator's replay of a stored delivery) checks the signature alone.
 */
export function verifyStripe(
  delivery: InboundDelivery,
  secrets: SubscriptionSecrets,
  opts: { checkTimestamp: boolean },
): SignatureCheck {
  const header = delivery.headers['stripe-signature'];
  if (!header) return { ok: false, reason: 'missing Stripe-Signature header' };
  let reason = 'no signature matches';
  for (const [which, secret] of candidateSecrets(secrets)) {
    try {
      Stripe.webhooks.constructEvent(
        delivery.rawBody,
        header,
        secret,
        // A tolerance of 0 turns the SDK's timestamp check off.
        opts.checkTimestamp ? STRIPE_TOLERANCE_S : 0,
        undefined,
        delivery.receivedAtMs,
      );
      return { ok: true, secretUsed: which };
    } catch (err) {
      // constructEvent parses the body once the signature matched: a body that is no JSON is
      // signed all the same (normalize calls it unparseable).
      if (err instanceof SyntaxError) return { ok: true, secretUsed: which };
      reason = firstLine(err);
      // The signature matched and only the time is wrong: no other secret changes that.
      if (/tolerance/i.test(reason)) return { ok: false, reason };
    }
  }
  return { ok: false, reason };
}

const firstLine = (err: unknown): string =>
  String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .trim()
    .slice(0, 300);
