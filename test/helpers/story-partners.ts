/**
 * The partners a card story issues at: stripe-mock behind the recording proxy, and the Lithic fake.
 *
 * stripe-mock keeps no state: every card it creates comes back under the same fixture id, so two
 * stories' cards (and their deliveries) could not be told apart by it. The proxy therefore answers
 * card creates itself (`uniqueStripeCards`): one `Stripe.Issuing.Card` with its own id per
 * idempotency key, as Stripe would, and the retrieve of that id. The calls are recorded all the same.
 */
import crypto from 'node:crypto';
import type Stripe from 'stripe';
import type { StripeMockHandle } from '../../src/infra/stripe-mock';
import { startLithicFake, type LithicFake } from './lithic-fake';
import { stripeCard, stripeCardholder } from './stripe-fixtures';
import { startRecordingProxy, startTestStripeMock, type RecordingProxy, type Stub } from './stripe-mock';

export interface StoryPartners {
  /** The recording proxy in front of stripe-mock: what the platform's `apiBaseUrl` names. */
  stripe: RecordingProxy;
  /** The Stripe cards created through the proxy, by id. */
  stripeCards: Map<string, Stripe.Issuing.Card>;
  lithic: LithicFake;
  close(): Promise<void>;
}

/** Creates and retrieves of Issuing cards, each created card with its own id (one per key). */
export function uniqueStripeCards(cards: Map<string, Stripe.Issuing.Card>): Stub {
  const byKey = new Map<string, Stripe.Issuing.Card>();
  return (call) => {
    if (call.method === 'POST' && call.path === '/v1/issuing/cards') {
      const known = call.idempotencyKey ? byKey.get(call.idempotencyKey) : undefined;
      if (known) return { status: 200, body: known };
      const f = call.form;
      const metadata = Object.fromEntries(
        Object.entries(f)
          .filter(([k]) => k.startsWith('metadata['))
          .map(([k, v]) => [k.slice('metadata['.length, -1), v]),
      );
      const card = stripeCard({
        id: `ic_${crypto.randomBytes(12).toString('hex')}`,
        cardholder: stripeCardholder({ id: f.cardholder ?? 'ich_missing' }),
        created: Math.floor(Date.now() / 1000),
        currency: f.currency ?? 'usd',
        type: f.type === 'physical' ? 'physical' : 'virtual',
        status: f.status === 'inactive' ? 'inactive' : 'active',
        metadata,
      });
      cards.set(card.id, card);
      if (call.idempotencyKey) byKey.set(call.idempotencyKey, card);
      return { status: 200, body: card };
    }
    const retrieve = /^\/v1\/issuing\/cards\/([^/]+)$/.exec(call.path);
    if (call.method === 'GET' && retrieve && cards.has(retrieve[1]!))
      return { status: 200, body: cards.get(retrieve[1]!) };
    return null;
  };
}

export async function startStoryPartners(): Promise<StoryPartners> {
  const [mock, lithic]: [StripeMockHandle, LithicFake] = await Promise.all([
    startTestStripeMock(),
    startLithicFake(),
  ]);
  const stripe = await startRecordingProxy(mock.url);
  const stripeCards = new Map<string, Stripe.Issuing.Card>();
  stripe.stub(uniqueStripeCards(stripeCards));
  return {
    stripe,
    stripeCards,
    lithic,
    close: async () => {
      await stripe.close();
      await mock.stop();
      await lithic.close();
    },
  };
}
