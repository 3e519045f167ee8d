import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';
import { eventually } from './helpers/wait';

const h = useHarness();
let t: TestTenant;
beforeAll(async () => {
  t = await newTenant(h);
});

const sb = (method: string, path: string, body?: unknown) =>
  h.request(method, `/sandbox/v1${path}`, { key: t.operatorKey, body });
const balances = async (cardId: string) =>
  (await h.request('GET', `/v1/cards/${cardId}`, { key: t.appKey })).body.balances;

describe('the sandbox partner API', () => {
  it('lists its cards and plays a purchase through signed webhooks: authorization asks the platform first', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const cards = await sb('GET', '/cards?limit=200');
    expect(cards.body.data).toContainEqual(
      expect.objectContaining({
        id: card.partnerCardId,
        platformCardRef: card.id,
        status: 'active',
        last4: card.last4,
      }),
    );

    const auth = await sb('POST', '/transactions', {
      cardId: card.partnerCardId,
      type: 'authorization',
      amount: 5_000,
      currency: 'USD',
      merchant: { mcc: '5411', country: 'US', region: 'US-CA' },
    });
    expect(auth.status).toBe(201);
    expect(auth.body).toMatchObject({
      type: 'authorization',
      approved: true,
      delivery: { deliveries: [{ status: 200, body: { approved: true, approvedAmount: 5_000 } }] },
    });
    expect(await balances(card.id)).toMatchObject({ held: 5_000, captured: 0 });

    const tooBig = await sb('POST', '/transactions', {
      cardId: card.partnerCardId,
      type: 'authorization',
      amount: 50_000,
      currency: 'USD',
    });
    expect(tooBig.body).toMatchObject({
      approved: false,
      delivery: { deliveries: [{ body: { approved: false, declineCode: 'EXCEEDS_SPENDING_LIMIT' } }] },
    });

    await sb('POST', '/transactions', {
      cardId: card.partnerCardId,
      type: 'clearing',
      transactionId: auth.body.transactionId,
      amount: 4_000,
      currency: 'USD',
      chaos: { duplicates: 2 },
    });
    await eventually(async () => (await balances(card.id)).captured === 4_000);
    await sb('POST', '/transactions', {
      cardId: card.partnerCardId,
      type: 'refund',
      transactionId: auth.body.transactionId,
      amount: 500,
      currency: 'USD',
    });
    await eventually(async () => (await balances(card.id)).refunded === 500);
    expect(await balances(card.id)).toEqual({
      held: 0,
      captured: 4_000,
      refunded: 500,
      available: { all_time: 16_500 },
    });

    const txns = await sb('GET', '/transactions?limit=2');
    expect(txns.body.data).toHaveLength(2);
    const rest = await sb('GET', `/transactions?limit=50&cursor=${txns.body.nextCursor}`);
    expect(
      [...txns.body.data, ...rest.body.data]
        .filter((x: { cardId: string }) => x.cardId === card.partnerCardId)
        .map((x: { type: string }) => x.type),
    ).toEqual(['authorization', 'authorization', 'clearing', 'refund']);
  });

  it('records silent changes in its own books only (drift for reconciliation)', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const deliveries = async () =>
      Number((await h.knex('webhook_deliveries').where({ tenantId: t.id }).count('* as n'))[0]!.n);
    const deliveredBefore = await deliveries();
    const silent = await sb('POST', `/cards/${card.partnerCardId}/status`, {
      status: 'frozen',
      silent: true,
    });
    expect(silent.body).toMatchObject({ status: 'frozen', silent: true, delivery: null });
    await sb('POST', '/transactions', {
      cardId: card.partnerCardId,
      type: 'clearing',
      amount: 700,
      currency: 'USD',
      silent: true,
    });
    // The sandbox delivers as it answers: nothing was sent for either change.
    expect(await deliveries()).toBe(deliveredBefore);
    expect((await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body).toMatchObject({
      status: 'active',
      balances: { captured: 0 },
    });

    const announced = await sb('POST', `/cards/${card.partnerCardId}/status`, { status: 'frozen' });
    expect(announced.body.delivery.deliveries[0].status).toBe(200);
    expect(await deliveries()).toBe(deliveredBefore + 1);
    await eventually(
      async () =>
        (await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body.status === 'frozen',
    );
    // Once a later change has reached the card, the silent clearing still has not.
    expect((await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body).toMatchObject({
      balances: { captured: 0 },
    });
    expect(await h.knex('transaction_events').where({ cardId: card.id })).toHaveLength(0);
  });

  it('belongs to the program whose operator key calls it', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const other = await newTenant(h);
    const res = await h.request('POST', `/sandbox/v1/cards/${card.partnerCardId}/status`, {
      key: other.operatorKey,
      body: { status: 'canceled' },
    });
    expect(res.status).toBe(404);
    expect((await h.request('GET', '/sandbox/v1/cards', { key: t.appKey })).status).toBe(403);
  });
});
