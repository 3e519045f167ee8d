/**
 * The same card story through the sandbox, Stripe Issuing and Lithic, each through its own
 * webhook URL with deliveries signed as the partner signs them (the Stripe SDK's
 * generateTestHeaderString; standardwebhooks for Lithic): approve, decline over the limit,
 * redelivery, partial capture, unlinked refund, reversal, expiry, force capture, freeze, cancel.
 * All three end with the same balances and the same transactions. The Stripe and Lithic cards are
 * issued at the partner (stripe-mock behind the recording proxy, the Lithic fake) through the API.
 * Real PostgreSQL, real Temporal.
 */
import Stripe from 'stripe';
import { startHarness, type Harness } from './helpers/harness';
import { startStoryPartners, type StoryPartners } from './helpers/story-partners';
import {
  books,
  lithicDriver,
  readAnswer,
  sandboxDriver,
  stripeDriver,
  type PartnerDriver,
} from './helpers/partner-story';

let h: Harness;
let at: StoryPartners;
beforeAll(async () => {
  [h, at] = await Promise.all([startHarness(), startStoryPartners()]);
}, 300_000);
afterAll(async () => {
  await at?.close();
  await h?.stop();
});

/** Stripe's deadline (2 s) is the tightest of the three; Lithic's is 3 s. */
const DEADLINE_MS = { sandbox: 2_000, stripe: 2_000, lithic: 3_000 } as Record<string, number>;

async function story(d: PartnerDriver) {
  const answer = async (tx: string, amount: number) => {
    const reply = await d.authorize(tx, amount);
    expect(reply.status).toBe(200);
    expect(reply.ms).toBeLessThan(DEADLINE_MS[d.name]!);
    return { reply, ...readAnswer(d.name, reply, amount) };
  };
  // Approve 5 000 on a card with 20 000 all time.
  const a1 = await answer('A1', 5_000);
  expect(a1).toMatchObject({ approved: true, amount: 5_000 });
  await d.decided('A1', true, 5_000);
  // Over the limit: declined.
  const a2 = await answer('A2', 30_000);
  expect(a2.approved).toBe(false);
  await d.decided('A2', false, 30_000);
  // The partner retries the first request: the same answer, nothing held twice.
  const again = await d.redeliverAuthorize('A1');
  expect(again.status).toBe(200);
  expect(readAnswer(d.name, again, 5_000)).toEqual({ approved: true, amount: 5_000 });
  expect((await books(h, d)).balances.held).toBe(5_000);
  // Partial capture of A1, an unlinked refund.
  await d.capture('A1', 3_000);
  await d.refundUnlinked('R1', 1_000);
  // A3 approved then reversed in full; A4 approved then expired.
  expect((await answer('A3', 4_000)).approved).toBe(true);
  await d.decided('A3', true, 4_000);
  await d.reverse('A3', 4_000);
  expect((await answer('A4', 2_000)).approved).toBe(true);
  await d.decided('A4', true, 2_000);
  await d.expire('A4');
  // A capture with no authorization.
  await d.forceCapture('F1', 1_500);
  await d.freeze();
  expect((await books(h, d)).status).toBe('frozen');
  await d.cancel();
  return { a1, a2 };
}

describe('one card story, three partners', () => {
  it('ends with the same books at the sandbox, Stripe and Lithic', async () => {
    const sandbox = await sandboxDriver(h);
    const stripe = await stripeDriver(h, at);
    const lithic = await lithicDriver(h, at);

    // Stripe and Lithic each made the card, once, under the platform's idempotency key, and the
    // platform keeps the id they returned (which their deliveries below name).
    expect(
      at.stripe
        .callsTo('POST', '/v1/issuing/cards')
        .filter((c) => c.form['metadata[vcn_card_id]'] === stripe.card.id),
    ).toEqual([expect.objectContaining({ idempotencyKey: `vcn:card:${stripe.card.id}`, status: 200 })]);
    expect(at.stripeCards.get(stripe.card.partnerCardId)?.metadata).toMatchObject({
      vcn_card_id: stripe.card.id,
    });
    expect(
      at.lithic.calls.filter(
        (c) => c.method === 'POST' && c.path === '/v1/cards' && c.body?.memo === lithic.card.id,
      ),
    ).toEqual([expect.objectContaining({ idempotencyKey: `vcn:card:${lithic.card.id}`, status: 200 })]);
    expect(at.lithic.cards.get(lithic.card.partnerCardId)?.memo).toBe(lithic.card.id);
    expect(stripe.card.partnerCardId).not.toBe(lithic.card.partnerCardId);

    await story(sandbox);
    const s = await story(stripe);
    const l = await story(lithic);

    // Each partner was answered in its own shape.
    expect(s.a1.reply.headers.get('stripe-version')).toBe(Stripe.API_VERSION);
    expect(s.a1.reply.body).toEqual({ approved: true });
    expect(s.a2.reply.body).toEqual({
      approved: false,
      metadata: { vcn_decline_code: 'EXCEEDS_SPENDING_LIMIT' },
    });
    expect(l.a1.reply.body).toEqual({ token: expect.any(String), result: 'APPROVED' });
    expect(l.a2.reply.body).toMatchObject({ result: 'VELOCITY_EXCEEDED' });

    const expected = await books(h, sandbox);
    expect(expected.status).toBe('canceled');
    expect(expected.balances).toMatchObject({ held: 0, captured: 4_500, refunded: 1_000 });
    expect(expected.transactions).toHaveLength(6);
    expect(await books(h, stripe)).toEqual(expected);
    expect(await books(h, lithic)).toEqual(expected);
  });
});
