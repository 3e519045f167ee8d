import { derivedId } from '../src/lib/ids';
import { SandboxPartner } from '../src/partners/sandbox/adapter';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, cardBody, type TestTenant } from './helpers/fixtures';
import { merchant, outcomesOf, sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';

const h = useHarness();
let t: TestTenant;
beforeAll(async () => {
  t = await newTenant(h);
});

const newCard = async () => (await issueCard(h, t, (await newUser(h, t)).id)).body;
const txns = (cardId: string) => h.request('GET', `/v1/cards/${cardId}/transactions`, { key: t.appKey });
const card = async (cardId: string) =>
  (await h.request('GET', `/v1/cards/${cardId}`, { key: t.appKey })).body;

describe('webhook ingestion', () => {
  it('applies the same delivery sent ten times once: one effect, nine duplicates', async () => {
    const c = await newCard();
    const id = `evt_${uniq('dup')}`;
    const data = { transactionId: uniq('txn'), cardId: c.partnerCardId, amount: 1_500, currency: 'USD' };
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await sendEvent(h, t, 'transaction.cleared', data, { id }));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(results[0]!.body).toMatchObject({
      received: true,
      duplicate: false,
      id: expect.stringMatching(/^whe_/),
    });
    expect(results.slice(1).every((r) => r.body.duplicate === true)).toBe(true);
    await eventually(async () => (await card(c.id)).balances.captured === 1_500);
    // No second effect later: a delivery sent after the ten, once applied, finds the first
    // clearing counted once (the card applies its events in the order they reach it).
    const later = { transactionId: uniq('txn'), cardId: c.partnerCardId, amount: 100, currency: 'USD' };
    expect((await sendEvent(h, t, 'transaction.cleared', later)).status).toBe(200);
    await eventually(async () => (await card(c.id)).balances.captured !== 1_500);
    expect((await card(c.id)).balances.captured).toBe(1_600);
    expect(
      await h.knex('transaction_events').where({ cardId: c.id, partnerTransactionId: data.transactionId }),
    ).toHaveLength(1);
    expect(await h.knex('transaction_events').where({ cardId: c.id })).toHaveLength(2);
    const outcomes = await h.knex('webhook_outcomes').whereIn(
      'deliveryId',
      results.map((r) => r.body.id),
    );
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(9);
    expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(1);
    expect(
      await h.knex('webhook_deliveries').whereIn(
        'id',
        results.map((r) => r.body.id),
      ),
    ).toHaveLength(10);
  });

  it('rejects bad, stale and unsigned deliveries with 401 and keeps them', async () => {
    const c = await newCard();
    const data = { cardId: c.partnerCardId, status: 'frozen' };
    const bad = await sendEvent(h, t, 'card.updated', data, {
      secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64'),
    });
    const stale = await sendEvent(h, t, 'card.updated', data, {
      signedAt: new Date(Date.now() - 10 * 60_000),
    });
    const missing = await sendEvent(h, t, 'card.updated', data, {
      headers: { 'webhook-signature': undefined },
    });
    for (const r of [bad, stale, missing]) {
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    }
    const stored = await h
      .knex('webhook_deliveries')
      .where({ tenantId: t.id })
      .orderBy('receivedAt', 'desc')
      .limit(3);
    expect(stored).toHaveLength(3);
    for (const d of stored) expect(await outcomesOf(h, d.id)).toEqual(['rejected']);
    expect((await card(c.id)).status).toBe('active');
  });

  it('takes a signature ten seconds inside the 5-minute tolerance and refuses one ten seconds outside', async () => {
    const c = await newCard();
    const data = { cardId: c.partnerCardId };
    const inside = await sendEvent(h, t, 'card.shipped', data, { signedAt: new Date(Date.now() - 290_000) });
    expect(inside.status).toBe(200);
    expect(inside.body).toMatchObject({ received: true });
    const ahead = await sendEvent(h, t, 'card.shipped', data, { signedAt: new Date(Date.now() + 290_000) });
    expect(ahead.status).toBe(200);
    for (const offsetMs of [-310_000, 310_000]) {
      const outside = await sendEvent(h, t, 'card.shipped', data, {
        signedAt: new Date(Date.now() + offsetMs),
      });
      expect(outside.status).toBe(401);
      expect(outside.body.error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    }
  });

  it('ignores a stale status change but still applies a stale cancellation', async () => {
    const c = await newCard();
    const at = (msAgo: number) => new Date(Date.now() - msAgo);
    const frozen = await sendEvent(
      h,
      t,
      'card.updated',
      { cardId: c.partnerCardId, status: 'frozen' },
      {
        created: at(0),
      },
    );
    expect(frozen.status).toBe(200);
    await eventually(async () => (await card(c.id)).status === 'frozen');
    // Happened before the freeze: an unfreeze is stale and ignored, a cancellation is not.
    const staleUnfreeze = await sendEvent(
      h,
      t,
      'card.updated',
      { cardId: c.partnerCardId, status: 'active' },
      {
        created: at(60_000),
      },
    );
    expect(staleUnfreeze.status).toBe(200);
    await eventually(async () => (await outcomesOf(h, staleUnfreeze.body.id)).length > 0);
    expect(await outcomesOf(h, staleUnfreeze.body.id)).toEqual(['ignored']);
    expect((await card(c.id)).status).toBe('frozen');
    const staleCancel = await sendEvent(
      h,
      t,
      'card.updated',
      { cardId: c.partnerCardId, status: 'canceled' },
      {
        created: at(120_000),
      },
    );
    expect(staleCancel.status).toBe(200);
    await eventually(async () => (await card(c.id)).status === 'canceled');
    expect(await outcomesOf(h, staleCancel.body.id)).toEqual(['applied']);
    const last = await h.knex('card_events').where({ cardId: c.id }).orderBy('id', 'desc').first();
    expect(last).toMatchObject({ fromStatus: 'frozen', toStatus: 'canceled', actorType: 'partner' });
  });

  it('answers 400 to unparseable bodies and 200 ignored to unknown or unsubscribed types, storing each', async () => {
    const c = await newCard();
    const notJson = await sendEvent(h, t, 'x', {}, { rawBody: '{not json' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('WEBHOOK_UNPARSEABLE');
    const badData = await sendEvent(h, t, 'transaction.cleared', {
      transactionId: 'x',
      cardId: c.partnerCardId,
      amount: -5,
      currency: 'USD',
    });
    expect(badData.status).toBe(400);
    const unknown = await sendEvent(h, t, 'card.shipped', { cardId: c.partnerCardId });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ received: true, ignored: true });
    const ids = (
      await h.knex('webhook_deliveries').where({ tenantId: t.id }).orderBy('receivedAt', 'desc').limit(3)
    ).map((d) => d.id);
    const outcomes = await Promise.all(ids.map((id) => outcomesOf(h, id)));
    expect(outcomes.flat().sort()).toEqual(['ignored', 'unparseable', 'unparseable']);
    const raw = await h.knex('webhook_deliveries').where({ id: ids[2] }).first();
    expect(raw.rawBody.toString()).toBe('{not json');
  });

  it('applies a card.updated by its meaning: a stale one changes nothing, a newer one does', async () => {
    const c = await newCard();
    const stale = await sendEvent(
      h,
      t,
      'card.updated',
      { cardId: c.partnerCardId, status: 'frozen' },
      { created: new Date(Date.now() - 3_600_000) },
    );
    expect(stale.status).toBe(200);
    await eventually(async () => (await outcomesOf(h, stale.body.id)).includes('ignored'));
    expect((await card(c.id)).status).toBe('active');
    const fresh = await sendEvent(h, t, 'card.updated', {
      cardId: c.partnerCardId,
      status: 'frozen',
      reason: 'partner risk',
    });
    await eventually(async () => (await card(c.id)).status === 'frozen');
    expect((await card(c.id)).frozenBy).toBe('partner');
    await eventually(async () => (await outcomesOf(h, fresh.body.id)).length > 0);
    expect(await outcomesOf(h, fresh.body.id)).toEqual(['applied']);
    const appUnfreeze = await h.request('POST', `/v1/cards/${c.id}/unfreeze`, { key: t.appKey });
    expect(appUnfreeze.body.error.code).toBe('CARD_FROZEN_BY_PARTNER');
  });

  it('keeps a card active when the partner’s unfreeze arrives before the freeze it lifted', async () => {
    const c = await newCard();
    const t0 = Date.now();
    // The partner froze at t0 and unfroze at t0+1s; the deliveries arrive the other way round.
    const unfreeze = await sendEvent(
      h,
      t,
      'card.updated',
      { cardId: c.partnerCardId, status: 'active' },
      { created: new Date(t0 + 1_000) },
    );
    await eventually(async () => (await outcomesOf(h, unfreeze.body.id)).length > 0);
    const freeze = await sendEvent(
      h,
      t,
      'card.updated',
      { cardId: c.partnerCardId, status: 'frozen' },
      { created: new Date(t0) },
    );
    await eventually(async () => (await outcomesOf(h, freeze.body.id)).length > 0);
    expect(await outcomesOf(h, freeze.body.id)).toEqual(['ignored']);
    expect((await card(c.id)).status).toBe('active');
  });

  it('follows a transaction through advice, partial capture and refund, order-tolerant', async () => {
    const c = await newCard();
    const tx = uniq('txn');
    // The clearing arrives before the advice of its authorization: counted once, hold released.
    await sendEvent(h, t, 'transaction.cleared', {
      transactionId: tx,
      cardId: c.partnerCardId,
      amount: 4_000,
      currency: 'USD',
    });
    await sendEvent(h, t, 'authorization.advice', {
      transactionId: tx,
      cardId: c.partnerCardId,
      amount: 5_000,
      currency: 'USD',
      merchant,
      approved: true,
    });
    await sendEvent(h, t, 'transaction.refunded', {
      refundId: uniq('rf'),
      transactionId: tx,
      cardId: c.partnerCardId,
      amount: 1_000,
      currency: 'USD',
    });
    await eventually(async () => (await card(c.id)).balances.refunded === 1_000);
    expect((await card(c.id)).balances).toEqual({
      held: 0,
      captured: 4_000,
      refunded: 1_000,
      available: { all_time: 17_000 },
    });
    const list = await txns(c.id);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({
        partnerTransactionId: tx,
        status: 'closed',
        authorizedAmount: 5_000,
        heldAmount: 0,
        capturedAmount: 4_000,
        refundedAmount: 1_000,
        currency: 'USD',
        merchant: expect.objectContaining({ mcc: '5411' }),
        flags: ['advice'],
      }),
    ]);
  });

  it('parks a webhook for a card whose issuance has not finished, then applies it', async () => {
    const user = await newUser(h, t);
    const key = uniq('idem');
    const cardId = derivedId('card', t.id, key);
    const partnerCardId = new SandboxPartner(h.knex, h.stack.vaultKey).partnerCardIdFor(t.id, cardId);
    const early = await sendEvent(h, t, 'authorization.advice', {
      transactionId: uniq('txn'),
      cardId: partnerCardId,
      amount: 700,
      currency: 'USD',
      merchant,
      approved: true,
    });
    expect(early.status).toBe(200);
    expect(await outcomesOf(h, early.body.id)).toEqual(['parked']);
    const issued = await h.request('POST', '/v1/cards', {
      key: t.appKey,
      body: cardBody(user.id),
      headers: { 'idempotency-key': key },
    });
    expect(issued.body.partnerCardId).toBe(partnerCardId);
    await eventually(async () => (await card(cardId)).balances.held === 700);
    expect(await outcomesOf(h, early.body.id)).toEqual(['parked', 'applied']);
  });
});
