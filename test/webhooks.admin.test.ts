import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { merchant, outcomesOf, sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';

const h = useHarness();
let t: TestTenant;
beforeAll(async () => {
  t = await newTenant(h);
});

const newCard = async () => (await issueCard(h, t, (await newUser(h, t)).id)).body;
const op = (method: string, path: string, body?: unknown) =>
  h.request(method, path, { key: t.operatorKey, body });

describe('webhook events for operators', () => {
  it('lists deliveries with their current outcome, filtered by partner, outcome and card, and shows one in full', async () => {
    const c = await newCard();
    const ok = await sendEvent(h, t, 'authorization.advice', {
      transactionId: uniq('tx'),
      cardId: c.partnerCardId,
      amount: 900,
      currency: 'USD',
      merchant,
      approved: true,
    });
    await eventually(async () => (await outcomesOf(h, ok.body.id)).includes('applied'));
    const bad = await sendEvent(
      h,
      t,
      'card.updated',
      { cardId: c.partnerCardId, status: 'frozen' },
      { signedAt: new Date(Date.now() - 3_600_000) },
    );
    expect(bad.status).toBe(401);

    const byCard = await op('GET', `/admin/webhook-events?cardId=${c.id}`);
    expect(byCard.status).toBe(200);
    expect(byCard.body.data.map((d: { id: string }) => d.id)).toEqual([ok.body.id]);
    expect(byCard.body.data[0]).toMatchObject({
      outcome: 'applied',
      eventType: 'authorization.advice',
      cardId: c.id,
      partner: 'sandbox',
    });
    const rejected = await op('GET', '/admin/webhook-events?outcome=rejected&partner=sandbox&limit=200');
    // The 401 names the stored delivery, so a partner can quote it to support.
    expect(bad.body.error.details.id).toMatch(/^whe_/);
    expect(rejected.body.data.map((d: { id: string }) => d.id)).toContain(bad.body.error.details.id);

    const one = await op('GET', `/admin/webhook-events/${ok.body.id}`);
    expect(one.body).toMatchObject({ id: ok.body.id, outcome: 'applied', handoff: { status: 'handed_off' } });
    expect(one.body.payload.json).toMatchObject({ type: 'authorization.advice' });
    expect(one.body.headers['webhook-signature']).toEqual(expect.any(String));
    // Another tenant sees nothing of it.
    const other = await newTenant(h);
    expect(
      (await h.request('GET', `/admin/webhook-events/${ok.body.id}`, { key: other.operatorKey })).status,
    ).toBe(404);
  });

  it('masks card numbers in stored payloads shown to operators', async () => {
    const c = await newCard();
    const res = await sendEvent(h, t, 'card.shipped', {
      cardId: c.partnerCardId,
      number: '4000001234567899',
    });
    const shown = await op('GET', `/admin/webhook-events/${res.body.id}`);
    expect(shown.body.payload.text.includes('4000001234567899')).toBe(false);
    expect(shown.body.payload.json.data.number).toBe('************7899');
  });

  it('replays a delivery idempotently: a second application changes nothing', async () => {
    const c = await newCard();
    const res = await sendEvent(h, t, 'transaction.cleared', {
      transactionId: uniq('tx'),
      cardId: c.partnerCardId,
      amount: 2_500,
      currency: 'USD',
    });
    await eventually(async () => (await outcomesOf(h, res.body.id)).includes('applied'));
    const replay = await op('POST', `/admin/webhook-events/${res.body.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ id: res.body.id, replayed: true });
    await eventually(async () => (await outcomesOf(h, res.body.id)).length >= 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(await outcomesOf(h, res.body.id)).toEqual(['applied', 'duplicate']);
    const card = (await h.request('GET', `/v1/cards/${c.id}`, { key: t.appKey })).body;
    expect(card.balances.captured).toBe(2_500);
  });
});

describe('partner subscriptions', () => {
  it('creates, lists, pauses and narrows subscriptions', async () => {
    const created = await op('POST', '/admin/partners/sandbox/subscriptions', {
      eventTypes: ['card.updated'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      partner: 'sandbox',
      status: 'active',
      eventTypes: ['card.updated'],
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(created.body.url).toContain(`/webhooks/sandbox/${created.body.id}`);
    const list = await op('GET', '/admin/partners/sandbox/subscriptions');
    expect(list.body.data.map((s: { id: string }) => s.id)).toContain(created.body.id);
    expect(list.body.data.every((s: Record<string, unknown>) => !('secret' in s))).toBe(true);
    const paused = await op('PATCH', `/admin/partners/sandbox/subscriptions/${created.body.id}`, {
      status: 'paused',
    });
    expect(paused.body.status).toBe('paused');
    const bad = await op('PATCH', `/admin/partners/sandbox/subscriptions/${created.body.id}`, {
      eventTypes: ['card.exploded'],
    });
    expect(bad.status).toBe(400);
    expect((await op('GET', '/admin/partners/visa/subscriptions')).status).toBe(404);
  });

  it('ignores a type the subscription does not include', async () => {
    const sub = (await op('POST', '/admin/partners/sandbox/subscriptions', { eventTypes: ['card.updated'] }))
      .body;
    const c = await newCard();
    const narrow = { ...t, sandboxWebhookUrl: sub.url, sandboxWebhookSecret: sub.secret };
    const res = await sendEvent(h, narrow, 'transaction.cleared', {
      transactionId: uniq('tx'),
      cardId: c.partnerCardId,
      amount: 100,
      currency: 'USD',
    });
    expect(res.status).toBe(200);
    expect(res.body.ignored).toBe(true);
    expect(await outcomesOf(h, res.body.id)).toEqual(['ignored']);
  });

  it('rotates the secret: the previous one verifies for 24 hours, then no longer', async () => {
    const c = await newCard();
    const sub = (await op('POST', '/admin/partners/sandbox/subscriptions', {})).body;
    const rotated = await op('POST', `/admin/partners/sandbox/subscriptions/${sub.id}/rotate-secret`);
    expect(rotated.body.secret).not.toBe(sub.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    const send = (secret: string) =>
      sendEvent(h, { ...t, sandboxWebhookUrl: sub.url, sandboxWebhookSecret: secret }, 'card.updated', {
        cardId: c.partnerCardId,
        status: 'active',
      });
    expect((await send(sub.secret)).status).toBe(200);
    expect((await send(rotated.body.secret)).status).toBe(200);
    // 24 hours later.
    await h
      .knex('partner_subscriptions')
      .where({ id: sub.id })
      .update({ previousSecretExpiresAt: new Date(Date.now() - 1000) });
    // Changed behind the API's back: it reads a subscription at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await send(sub.secret)).status).toBe(401);
    expect((await send(rotated.body.secret)).status).toBe(200);
  });
});

describe('card timeline', () => {
  it('merges deliveries, transaction events, state transitions and admin actions in time order, paginated', async () => {
    const c = await newCard();
    const tx = uniq('tx');
    const advice = await sendEvent(h, t, 'authorization.advice', {
      transactionId: tx,
      cardId: c.partnerCardId,
      amount: 1_200,
      currency: 'USD',
      merchant,
      approved: true,
    });
    await eventually(async () => (await outcomesOf(h, advice.body.id)).includes('applied'));
    await op('POST', `/admin/cards/${c.id}/actions`, { type: 'freeze', reason: 'review' });
    const page1 = await op('GET', `/admin/cards/${c.id}/timeline?limit=3`);
    expect(page1.status).toBe(200);
    expect(page1.body.temporalUiUrl).toContain(encodeURIComponent(page1.body.card.workflowId));
    const page2 = await op('GET', `/admin/cards/${c.id}/timeline?limit=50&cursor=${page1.body.nextCursor}`);
    const items = [...page1.body.data, ...page2.body.data];
    expect(page2.body.nextCursor).toBeNull();
    expect(items.map((i: { type: string }) => i.type).sort()).toEqual(
      [
        'admin_action',
        'state_transition',
        'state_transition',
        'state_transition',
        'transaction_event',
        'webhook',
      ].sort(),
    );
    const times = items.map((i: { at: string }) => Date.parse(i.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const hook = items.find((i: { type: string }) => i.type === 'webhook');
    expect(hook).toMatchObject({ outcome: 'applied', payload: { json: { type: 'authorization.advice' } } });
  });
});
