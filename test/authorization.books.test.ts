import { writeMoneyEvent } from '../src/cards/money-events';
import type { RecordMoneyEventInput } from '../src/domain/card-records';
import type { AuthorizeResult } from '../src/workflows/messages';
import { startHarness, type Harness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { authorizeDirectly, merchant, outcomesOf, sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';

/**
 * A fresh authorization is decided from the card's books and answered in one workflow task; the
 * API writes the decision as it answers, and the card writes it itself a moment later (here
 * 500 ms) in case the API did not live to. These check that backstop and that writes of one
 * transaction, in any order or at once, leave the tables right.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ projectionFlushMs: 500 });
});
afterAll(() => h.stop());

async function setup(): Promise<{
  t: TestTenant;
  card: { id: string; partnerCardId: string; userId: string };
}> {
  const t = await newTenant(h, { authorizationTimeoutMs: 10_000 });
  const user = await newUser(h, t);
  const res = await issueCard(h, t, user.id);
  if (res.status !== 201) throw new Error(`card not issued: ${JSON.stringify(res.body)}`);
  return { t, card: res.body };
}

/** The authorize update as the API sends it for a first delivery, without the API (nor its write). */
const decideFresh = (t: TestTenant, card: { id: string; partnerCardId: string }, transactionId: string) =>
  authorizeDirectly(h, t, card, transactionId, { fresh: true });

const weekSpent = async (t: TestTenant, userId: string): Promise<number> =>
  Number(
    (await h.knex('user_spend_weeks').where({ tenantId: t.id, userId }).sum({ s: 'spent' }).first())?.s ?? 0,
  );
const transactionRow = (cardId: string, partnerTransactionId: string) =>
  h.knex('transactions').where({ cardId, partnerTransactionId }).first();

describe("authorizations decided from the card's books", () => {
  it('are written by the card itself when the API never wrote them (it died between the answer and its write)', async () => {
    const { t, card } = await setup();
    const txn = uniq('txn');
    const r: AuthorizeResult = await decideFresh(t, card, txn);
    expect(r).toMatchObject({ approved: true, approvedAmount: 400, declineCode: null });
    expect(r.projection).toMatchObject({ seq: expect.any(Number), source: 'partner' });
    expect(r.projection!.commitKey).toBe(`m${r.projection!.seq}`);
    // Answered before anything was written: only the card's own write will put it on record.
    expect(await h.knex('transaction_events').where({ cardId: card.id })).toEqual([]);
    const row = await eventually(async () => transactionRow(card.id, txn), 10_000);
    expect(row).toMatchObject({ status: 'pending', authorizedAmount: 400, heldAmount: 400 });
    expect(await h.knex('transaction_events').where({ cardId: card.id })).toHaveLength(1);
    expect(await weekSpent(t, card.userId)).toBe(400);
    const view = (await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body;
    expect(view.balances).toMatchObject({ held: 400 });
    // The same update again (the API retrying it) is the same decision, and nothing more is held.
    expect(await decideFresh(t, card, txn)).toMatchObject({ approved: true, approvedAmount: 400 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await h.knex('transaction_events').where({ cardId: card.id })).toHaveLength(1);
    expect(await weekSpent(t, card.userId)).toBe(400);
  });

  it('are on record when the partner has its answer, and the card’s own write adds nothing', async () => {
    const { t, card } = await setup();
    const txn = uniq('txn');
    const res = await sendEvent(h, t, 'authorization.request', {
      transactionId: txn,
      cardId: card.partnerCardId,
      amount: 2_500,
      currency: 'USD',
      merchant,
    });
    expect(res.body).toMatchObject({ approved: true, approvedAmount: 2_500 });
    // Read straight after the answer: the API wrote it before answering.
    expect(await transactionRow(card.id, txn)).toMatchObject({ heldAmount: 2_500 });
    expect(await outcomesOf(h, res.body.id)).toEqual(['applied']);
    expect(await weekSpent(t, card.userId)).toBe(2_500);
    // Past the card's own write (500 ms here): still one event, one outcome, the spend once.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await h.knex('transaction_events').where({ cardId: card.id })).toHaveLength(1);
    expect(await outcomesOf(h, res.body.id)).toEqual(['applied']);
    expect(await weekSpent(t, card.userId)).toBe(2_500);
  });

  it('leave a transaction’s row and its user’s week right whatever order its writes arrive in, or at once', async () => {
    const { t, card } = await setup();
    const txn = uniq('txn');
    const p1 = (await decideFresh(t, card, txn)).projection!;
    expect(p1.userSpend).toMatchObject({ userId: card.userId, contribution: 400 });
    // A later write of the same transaction (an increment to 700), as the card would make it.
    const later = (
      p: RecordMoneyEventInput,
      by: number,
      amount: number,
      transactionId = p.entry.id,
    ): RecordMoneyEventInput => ({
      ...p,
      event: {
        ...p.event,
        kind: 'authorization.increment',
        eventId: uniq('evt'),
        amount: amount - 400,
      } as never,
      entry: { ...p.entry, id: transactionId, authorized: amount, held: amount },
      userSpend: { ...p.userSpend!, contribution: amount },
      seq: p.seq! + by,
      commitKey: `m${p.seq! + by}`,
    });
    const p2 = later(p1, 1, 700);
    // The newer write first, then the older one (the API's write of the request, late).
    expect(await writeMoneyEvent(h.knex, p2)).toBe(true);
    expect(await writeMoneyEvent(h.knex, p1)).toBe(true);
    expect(await transactionRow(card.id, txn)).toMatchObject({ authorizedAmount: 700, heldAmount: 700 });
    expect(await weekSpent(t, card.userId)).toBe(700);
    // Again, both: nothing changes (the card's own write of p1 comes too, within 500 ms).
    expect(await writeMoneyEvent(h.knex, p2)).toBe(false);
    expect(await writeMoneyEvent(h.knex, p1)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await weekSpent(t, card.userId)).toBe(700);
    // Two writes of each of 20 new transactions at the same moment, in both orders.
    for (let i = 0; i < 20; i++) {
      const first: RecordMoneyEventInput = {
        ...later(p1, 10 + 2 * i, 500, uniq('txn')),
        event: { ...p1.event, eventId: uniq('evt'), amount: 500 } as never,
      };
      const second = later(first, 1, 900);
      await Promise.all(
        i % 2
          ? [writeMoneyEvent(h.knex, first), writeMoneyEvent(h.knex, second)]
          : [writeMoneyEvent(h.knex, second), writeMoneyEvent(h.knex, first)],
      );
      expect(await transactionRow(card.id, first.entry.id)).toMatchObject({ authorizedAmount: 900 });
    }
    expect(await weekSpent(t, card.userId)).toBe(700 + 20 * 900);
  });

  it('take the card’s write over a lost workflow task’s write that had the same sequence number', async () => {
    const { t, card } = await setup();
    const txn = uniq('txn');
    // The lost task's write: an approval, written by its local activity before the task was lost
    // (Temporal or the worker killed), so the card's state never took it.
    const lost = (await decideFresh(t, card, txn)).projection!;
    expect(await writeMoneyEvent(h.knex, lost)).toBe(true);
    expect(await transactionRow(card.id, txn)).toMatchObject({ heldAmount: 400 });
    expect(await weekSpent(t, card.userId)).toBe(400);
    // The card, replayed without it, takes the same number for its next write of the transaction
    // (the STAND_IN decline's event): nothing held, nothing spent.
    const again: RecordMoneyEventInput = {
      ...lost,
      event: { ...lost.event, eventId: `${lost.event.eventId}:stand-in` } as never,
      entry: { ...lost.entry, held: 0 },
      userSpend: { ...lost.userSpend!, contribution: 0 },
    };
    expect(again.seq).toBe(lost.seq);
    expect(await writeMoneyEvent(h.knex, again)).toBe(true);
    expect(await transactionRow(card.id, txn)).toMatchObject({ heldAmount: 0 });
    expect(await weekSpent(t, card.userId)).toBe(0);
    // An older write arriving after it still changes nothing.
    const older: RecordMoneyEventInput = {
      ...lost,
      event: { ...lost.event, eventId: uniq('evt') } as never,
      seq: lost.seq! - 1,
      commitKey: `m${lost.seq! - 1}`,
    };
    expect(await writeMoneyEvent(h.knex, older)).toBe(true);
    expect(await transactionRow(card.id, txn)).toMatchObject({ heldAmount: 0 });
    expect(await weekSpent(t, card.userId)).toBe(0);
  });
});
