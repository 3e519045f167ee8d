import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { ProgramPolicy } from '../src/domain/policy';
import { cardWorkflowId } from '../src/domain/ids';
import { startHarness, type Harness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { authorizeDirectly, merchant, outcomesOf, sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

interface Answer {
  received: boolean;
  /** The delivery's id. */
  id: string;
  duplicate?: boolean;
  approved: boolean;
  approvedAmount?: number;
  declineCode?: string;
}

async function cardFor(t: TestTenant, extra: Record<string, unknown> = {}, userId?: string) {
  const uid = userId ?? (await newUser(h, t)).id;
  const res = await issueCard(h, t, uid, extra);
  if (res.status !== 201) throw new Error(`card not issued: ${JSON.stringify(res.body)}`);
  return res.body as { id: string; partnerCardId: string; userId: string };
}

const authorize = async (
  t: TestTenant,
  partnerCardId: string,
  amount: number,
  o: { currency?: string; merchant?: object; transactionId?: string; eventId?: string } = {},
) => {
  const res = await sendEvent(
    h,
    t,
    'authorization.request',
    {
      transactionId: o.transactionId ?? uniq('txn'),
      cardId: partnerCardId,
      amount,
      currency: o.currency ?? 'USD',
      merchant: o.merchant ?? merchant,
    },
    { id: o.eventId },
  );
  expect(res.status).toBe(200);
  return res.body as Answer;
};
const cardView = async (t: TestTenant, id: string) =>
  (await h.request('GET', `/v1/cards/${id}`, { key: t.appKey })).body;
const transactions = async (t: TestTenant, id: string) => {
  const out: Array<Record<string, any>> = [];
  for (let cursor = ''; ;) {
    const page = (
      await h.request('GET', `/v1/cards/${id}/transactions?limit=100${cursor && `&cursor=${cursor}`}`, {
        key: t.appKey,
      })
    ).body;
    out.push(...page.data);
    if (!page.nextCursor) return out;
    cursor = encodeURIComponent(page.nextCursor);
  }
};
const tenant = (policy: Partial<ProgramPolicy> = {}) =>
  newTenant(h, { authorizationTimeoutMs: 10_000, ...policy });

describe('real-time authorization', () => {
  it('approves exactly 50 of 200 concurrent $10 requests on a $500 all_time card; the books are exact', async () => {
    const t = await tenant();
    const card = await cardFor(t, {
      controls: { spendingLimits: [{ amount: 50_000, interval: 'all_time' }] },
    });
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => authorize(t, card.partnerCardId, 1_000)),
    );
    const approved = answers.filter((a) => a.approved);
    expect(approved).toHaveLength(50);
    expect(approved.every((a) => a.approvedAmount === 1_000)).toBe(true);
    const declined = answers.filter((a) => !a.approved);
    expect(declined).toHaveLength(150);
    expect(new Set(declined.map((a) => a.declineCode))).toEqual(new Set(['EXCEEDS_SPENDING_LIMIT']));
    const view = await cardView(t, card.id);
    expect(view.balances).toMatchObject({ held: 50_000, captured: 0, refunded: 0 });
    expect(view.balances.available.all_time).toBe(0);
    const txs = await transactions(t, card.id);
    expect(txs.filter((x) => x.status === 'pending')).toHaveLength(50);
    expect(txs.filter((x) => x.status === 'declined')).toHaveLength(150);
  });

  it('never lets three cards of one user pass weeklySpendLimitPerUser together, and releases on reversal', async () => {
    const t = await tenant({ weeklySpendLimitPerUser: 10_000 });
    const user = await newUser(h, t);
    const cards = [
      await cardFor(t, {}, user.id),
      await cardFor(t, {}, user.id),
      await cardFor(t, {}, user.id),
    ];
    const answers = await Promise.all(
      cards.flatMap((c) =>
        Array.from({ length: 15 }, () => {
          const transactionId = uniq('txn');
          return authorize(t, c.partnerCardId, 1_000, { transactionId }).then((a) => ({
            ...a,
            c,
            transactionId,
          }));
        }),
      ),
    );
    const approved = answers.filter((a) => a.approved);
    expect(approved).toHaveLength(10);
    expect(new Set(answers.filter((a) => !a.approved).map((a) => a.declineCode))).toEqual(
      new Set(['EXCEEDS_USER_WEEKLY_LIMIT']),
    );
    const held = (await Promise.all(cards.map((c) => cardView(t, c.id)))).reduce(
      (s, v) => s + v.balances.held,
      0,
    );
    expect(held).toBe(10_000);
    // A reversal gives the user room again, on any of their cards.
    const first = approved[0]!;
    const heldBefore = (await cardView(t, first.c.id)).balances.held;
    await sendEvent(h, t, 'authorization.reversed', {
      transactionId: first.transactionId,
      cardId: first.c.partnerCardId,
      amount: 1_000,
    });
    await eventually(async () => (await cardView(t, first.c.id)).balances.held === heldBefore - 1_000);
    const other = cards.find((c) => c.id !== first.c.id)!;
    expect((await authorize(t, other.partnerCardId, 1_000)).approved).toBe(true);
    expect((await authorize(t, other.partnerCardId, 1_000)).declineCode).toBe('EXCEEDS_USER_WEEKLY_LIMIT');
  });

  it('tells the partner where an answer’s time went (Server-Timing), and an asynchronous event only its storing', async () => {
    const t = await tenant();
    const card = await cardFor(t);
    const txn = uniq('txn');
    const sync = await sendEvent(h, t, 'authorization.request', {
      transactionId: txn,
      cardId: card.partnerCardId,
      amount: 100,
      currency: 'USD',
      merchant,
    });
    expect((sync.body as Answer).approved).toBe(true);
    // A fresh request is decided from the card's books: the card's answer, then the API's write of it.
    expect(sync.headers.get('server-timing')).toMatch(
      /^ingest;dur=\d+(\.\d)?, decide;dur=\d+(\.\d)?, card;dur=\d+(\.\d)?, write;dur=\d+(\.\d)?$/,
    );
    const async = await sendEvent(h, t, 'authorization.reversed', {
      transactionId: txn,
      cardId: card.partnerCardId,
      amount: 100,
    });
    expect(async.status).toBe(200);
    expect(async.headers.get('server-timing')).toMatch(/^ingest;dur=\d+(\.\d)?$/);
  });

  it('refuses unseen a request that reaches the card after the partner stopped waiting, and answers a decided one as before', async () => {
    const t = await tenant();
    const card = await cardFor(t);
    const request = (transactionId: string, deadlineAtMs?: number, updateId?: string) =>
      authorizeDirectly(h, t, card, transactionId, { deadlineAtMs, updateId });
    const late = uniq('txn');
    const refused = await request(late, Date.now() - 1_000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(
      'AUTHORIZATION_TOO_LATE',
    );
    // Nothing was decided or written for it: no event, no hold.
    expect(await h.knex('transaction_events').where({ cardId: card.id, partnerTransactionId: late })).toEqual(
      [],
    );
    expect((await cardView(t, card.id)).balances.held).toBe(0);
    // In time, it is decided; asked again after its deadline, it is answered as it was decided.
    const timely = uniq('txn');
    expect(await request(timely, Date.now() + 10_000)).toMatchObject({ approved: true, approvedAmount: 400 });
    expect(await request(timely, Date.now() - 1_000)).toMatchObject({ approved: true, approvedAmount: 400 });
    // (Temporal answers the same update id itself; the card's own memory answers it under another,
    // as after a continue-as-new.)
    expect(await request(timely, Date.now() - 1_000, `auth:evt_${timely}:again`)).toMatchObject({
      approved: true,
      duplicate: true,
    });
  });

  it('answers a redelivered request as it was decided, marked duplicate, with an outcome of its own and no second effect', async () => {
    const t = await tenant();
    const card = await cardFor(t, { controls: { spendingLimits: [{ amount: 500, interval: 'all_time' }] } });
    const send = (eventId: string, transactionId: string, amount: number) =>
      authorize(t, card.partnerCardId, amount, { transactionId, eventId });

    // One after the other: the same decision, the second marked duplicate.
    const a = { id: `evt_${uniq('a')}`, txn: uniq('txn') };
    const first = await send(a.id, a.txn, 300);
    const again = await send(a.id, a.txn, 300);
    expect(first).toMatchObject({ approved: true, approvedAmount: 300, duplicate: false });
    expect(again).toMatchObject({ approved: true, approvedAmount: 300, duplicate: true });
    expect(again.id).not.toBe(first.id);

    // A decline redelivered after the books changed is still the decline the partner was told.
    const c = { id: `evt_${uniq('c')}`, txn: uniq('txn') };
    expect(await send(c.id, c.txn, 300)).toMatchObject({
      approved: false,
      declineCode: 'EXCEEDS_SPENDING_LIMIT',
      duplicate: false,
    });
    await sendEvent(h, t, 'authorization.reversed', {
      transactionId: a.txn,
      cardId: card.partnerCardId,
      amount: 300,
    });
    await eventually(async () => (await cardView(t, card.id)).balances.held === 0);
    expect(await send(c.id, c.txn, 300)).toMatchObject({
      approved: false,
      declineCode: 'EXCEEDS_SPENDING_LIMIT',
      duplicate: true,
    });

    // Eight deliveries of one request at once, three times: one decision each, for the delivery
    // that reached the card first (not always the one stored first), and one hold each.
    const bursts: Array<{ txn: string; rs: Answer[] }> = [];
    for (let n = 0; n < 3; n++) {
      const b = { id: `evt_${uniq('b')}`, txn: uniq('txn') };
      const rs = await Promise.all(Array.from({ length: 8 }, () => send(b.id, b.txn, 100)));
      expect(rs.map((r) => [r.approved, r.approvedAmount])).toEqual(Array(8).fill([true, 100]));
      expect(rs.filter((r) => r.duplicate === false)).toHaveLength(1);
      bursts.push({ txn: b.txn, rs });
    }

    // Every delivery has one outcome: the decided one applied, each other one a duplicate.
    const all = [first, again, ...bursts.flatMap((b) => b.rs)];
    const outcomes = async () =>
      (
        await h
          .knex('webhook_outcomes')
          .whereIn(
            'deliveryId',
            all.map((r) => r.id),
          )
          .orderBy('id')
      ).map((o) => [o.deliveryId, o.outcome]);
    await eventually(async () => (await outcomes()).length >= all.length);
    expect((await outcomes()).sort()).toEqual(
      all.map((r) => [r.id, r.duplicate ? 'duplicate' : 'applied']).sort(),
    );

    const view = await cardView(t, card.id);
    expect(view.balances).toMatchObject({ held: 300, captured: 0 });
    const txns = Object.fromEntries((await transactions(t, card.id)).map((x) => [x.partnerTransactionId, x]));
    expect(Object.keys(txns)).toHaveLength(5);
    expect(txns[a.txn]).toMatchObject({ status: 'reversed', heldAmount: 0 });
    expect(txns[c.txn]).toMatchObject({ status: 'declined', heldAmount: 0 });
    for (const b of bursts) {
      expect(txns[b.txn]).toMatchObject({ status: 'pending', heldAmount: 100 });
      expect(
        await h.knex('transaction_events').where({ cardId: card.id, partnerTransactionId: b.txn }),
      ).toHaveLength(1);
    }
  });

  it('gives the first-stored delivery a duplicate outcome when another delivery reached the card first', async () => {
    const t = await tenant();
    const card = await cardFor(t);
    // The card decides the request as another delivery (here: sent to it directly), before the
    // delivery stored first reaches it: that one gets the same answer from Temporal (same update
    // id) without the card seeing it.
    const txn = uniq('txn');
    expect(await authorizeDirectly(h, t, card, txn)).toMatchObject({ approved: true, recordedFor: null });
    const res = await authorize(t, card.partnerCardId, 400, { transactionId: txn, eventId: `evt_${txn}` });
    expect(res).toMatchObject({ approved: true, approvedAmount: 400, duplicate: true });
    expect(await outcomesOf(h, res.id)).toEqual(['duplicate']);
    expect((await cardView(t, card.id)).balances.held).toBe(400);
  });

  it('answers an unknown card’s redelivery as a delivery of its own, with its own outcome', async () => {
    const t = await tenant();
    const o = { transactionId: uniq('txn'), eventId: `evt_${uniq('u')}` };
    const rs = [await authorize(t, 'no-such-card', 100, o), await authorize(t, 'no-such-card', 100, o)];
    for (const r of rs) {
      expect(r).toMatchObject({ approved: false, declineCode: 'CARD_NOT_ACTIVE', duplicate: false });
      expect(await outcomesOf(h, r.id)).toEqual(['ignored']);
    }
  });

  it('produces each decline code from the rule it names', async () => {
    const t = await tenant({ blockedMccs: ['7995'], weeklySpendLimitPerUser: 5_000 });
    const base = await cardFor(t, {
      controls: {
        spendingLimits: [
          { amount: 3_000, interval: 'per_authorization' },
          { amount: 4_000, interval: 'daily' },
        ],
        allowedRegions: ['US-CA'],
      },
    });
    const code = async (amount: number, o: Parameters<typeof authorize>[3] = {}, c = base) =>
      (await authorize(t, c.partnerCardId, amount, o)).declineCode ?? 'APPROVED';
    expect(await code(100, { currency: 'EUR' })).toBe('CURRENCY_MISMATCH');
    expect(await code(100, { merchant: { ...merchant, region: 'US-NY' } })).toBe('REGION_NOT_ALLOWED');
    expect(await code(100, { merchant: { ...merchant, mcc: '7995' } })).toBe('MCC_BLOCKED');
    expect(await code(3_001)).toBe('EXCEEDS_PER_AUTHORIZATION_LIMIT');
    expect(await code(3_000)).toBe('APPROVED');
    expect(await code(1_500)).toBe('EXCEEDS_SPENDING_LIMIT');
    // The user's weekly cap, across cards: 3,000 held on the first card, 2,500 more is too much.
    const second = await cardFor(t, {}, base.userId);
    expect(await code(2_500, {}, second)).toBe('EXCEEDS_USER_WEEKLY_LIMIT');
    expect(await code(2_000, {}, second)).toBe('APPROVED');

    const once = await cardFor(t, { controls: { maxAuthorizations: 1 } });
    const txn = uniq('txn');
    expect(await code(100, { transactionId: txn }, once)).toBe('APPROVED');
    expect(await code(100, {}, once)).toBe('MAX_AUTHORIZATIONS_REACHED');

    const frozen = await cardFor(t);
    await h.request('POST', `/v1/cards/${frozen.id}/freeze`, { key: t.appKey });
    expect(await code(100, {}, frozen)).toBe('CARD_NOT_ACTIVE');

    const shortLived = await cardFor(t, { expiresAt: new Date(Date.now() + 2_000).toISOString() });
    await eventually(async () => (await cardView(t, shortLived.id)).status === 'expired', 15_000);
    expect(await code(100, {}, shortLived)).toBe('CARD_EXPIRED');
    // STAND_IN: see the worker-outage test below.
  });

  it('cancels a maxAuthorizations card once its last authorization is captured', async () => {
    const t = await tenant();
    const card = await cardFor(t, { controls: { maxAuthorizations: 1 } });
    const transactionId = uniq('txn');
    expect((await authorize(t, card.partnerCardId, 2_000, { transactionId })).approved).toBe(true);
    expect((await cardView(t, card.id)).status).toBe('active');
    await sendEvent(h, t, 'transaction.cleared', {
      transactionId,
      cardId: card.partnerCardId,
      amount: 1_500,
      currency: 'USD',
    });
    await eventually(async () => (await cardView(t, card.id)).status === 'canceled');
    expect((await cardView(t, card.id)).balances).toMatchObject({ held: 0, captured: 1_500 });
  });

  it('holds an approved advice even where the card’s controls would decline, and flags it', async () => {
    const t = await tenant();
    const card = await cardFor(t);
    await h.request('POST', `/v1/cards/${card.id}/freeze`, { key: t.appKey });
    const transactionId = uniq('txn');
    await sendEvent(h, t, 'authorization.advice', {
      transactionId,
      cardId: card.partnerCardId,
      amount: 2_500,
      currency: 'USD',
      merchant,
      approved: true,
    });
    await eventually(async () => (await cardView(t, card.id)).balances.held === 2_500);
    const [tx] = await transactions(t, card.id);
    expect(tx!.flags).toContain('advice');
  });
});

describe('hold expiry', () => {
  // A harness whose card workflows let holds lapse after 3 s instead of the program's days.
  let main: Harness;
  beforeAll(async () => {
    main = h;
    h = await startHarness({ holdExpiryMs: 3_000 });
  });
  afterAll(async () => {
    await h.stop();
    h = main;
  });

  it('lets a hold lapse after the hold-expiry time; a capture after that still counts', async () => {
    const t = await tenant();
    const card = await cardFor(t);
    const transactionId = uniq('txn');
    expect((await authorize(t, card.partnerCardId, 4_000, { transactionId })).approved).toBe(true);
    expect((await cardView(t, card.id)).balances.held).toBe(4_000);
    await eventually(async () => (await cardView(t, card.id)).balances.held === 0, 15_000);
    const [tx] = await transactions(t, card.id);
    expect(tx).toMatchObject({ partnerTransactionId: transactionId, status: 'expired', heldAmount: 0 });
    const expiry = await h
      .knex('transaction_events')
      .where({ cardId: card.id, type: 'authorization_expiry' });
    expect(expiry).toEqual([expect.objectContaining({ source: 'system' })]);
    await sendEvent(h, t, 'transaction.cleared', {
      transactionId,
      cardId: card.partnerCardId,
      amount: 4_000,
      currency: 'USD',
    });
    await eventually(async () => (await cardView(t, card.id)).balances.captured === 4_000);
    expect((await cardView(t, card.id)).balances.held).toBe(0);
  });
});

describe('the worker stopped', () => {
  it('answers with the program’s stand-in within the deadline, and the books are right once the worker is back', async () => {
    const decliner = await newTenant(h, { authorizationTimeoutMs: 600, standInDecision: 'decline' });
    const approver = await newTenant(h, { authorizationTimeoutMs: 600, standInDecision: 'approve' });
    // One authorization allowed: the stand-in's decline must give it back, whatever the card decided late.
    const a = await cardFor(decliner, { controls: { maxAuthorizations: 1 } });
    const b = await cardFor(approver);
    const txn = uniq('txn');
    const declinedTxn = uniq('txn');
    await h.stopWorker();
    try {
      // Answered while no worker can decide: the stand-in is the deadline's answer (no
      // wall-clock bound here: on two busy cores the request's own time is not the deadline's).
      const declined = await authorize(decliner, a.partnerCardId, 1_000, {
        transactionId: declinedTxn,
        eventId: `evt_${declinedTxn}`,
      });
      const approved = await authorize(approver, b.partnerCardId, 2_000, {
        transactionId: txn,
        eventId: `evt_${txn}`,
      });
      expect(declined).toMatchObject({ approved: false, declineCode: 'STAND_IN' });
      expect(approved).toMatchObject({ approved: true, approvedAmount: 2_000 });
    } finally {
      await h.startWorker();
    }
    // The partner approved on the stand-in: the card holds it, once, flagged.
    await eventually(async () => (await cardView(approver, b.id)).balances.held === 2_000, 20_000);
    // A late decision of the card's own must not add to it: the request reached the card (in the
    // task that took the stand-in, or before) past its deadline and was refused before it was
    // accepted, so the card's history holds no accepted `authorize` update.
    const acceptedAuthorizations = async (tenantId: string, cardId: string) =>
      (
        (await h.temporal.workflow.getHandle(cardWorkflowId(tenantId, cardId)).fetchHistory()).events ?? []
      ).filter(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'authorize',
      ).length;
    expect(await acceptedAuthorizations(approver.id, b.id)).toBe(0);
    expect((await cardView(approver, b.id)).balances.held).toBe(2_000);
    const [tb] = await transactions(approver, b.id);
    expect(tb!.flags).toContain('stand_in');
    // The partner declined on the stand-in: nothing is held, whatever the card decides later.
    await eventually(async () => (await transactions(decliner, a.id)).length === 1, 20_000);
    await eventually(
      async () =>
        (await h.knex('transaction_events').where({ cardId: a.id, type: 'authorization_stand_in' }))
          .length === 1,
      20_000,
    );
    expect((await cardView(decliner, a.id)).balances.held).toBe(0);
    // Redelivered now, each request gets the answer the partner acted on, not the card's own.
    const again = (t: TestTenant, partnerCardId: string, transactionId: string, amount: number) =>
      authorize(t, partnerCardId, amount, { transactionId, eventId: `evt_${transactionId}` });
    expect(await again(decliner, a.partnerCardId, declinedTxn, 1_000)).toMatchObject({
      approved: false,
      declineCode: 'STAND_IN',
      duplicate: true,
    });
    expect(await again(approver, b.partnerCardId, txn, 2_000)).toMatchObject({
      approved: true,
      approvedAmount: 2_000,
      duplicate: true,
    });
    expect((await cardView(approver, b.id)).balances.held).toBe(2_000);
    expect(await authorize(decliner, a.partnerCardId, 500)).toMatchObject({ approved: true });
  });
});
