import { cardWorkflowId } from '../src/domain/ids';
import { CardStatusSA } from '../src/workflows/search-attributes';
import { changeStatusUpdate, getCardQuery } from '../src/workflows/messages';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { eventually, inMs } from './helpers/wait';

// Card workflows in this file continue as new every ~40 history events, so every flow below
// also crosses runs.
const h = useHarness({ maxHistoryEvents: 40 });
let t: TestTenant;

beforeAll(async () => {
  t = await newTenant(h);
});

describe('card expiry', () => {
  it('expires the card at expiresAt by itself and tells the partner', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id, { expiresAt: inMs(3_000) })).body;
    expect(card.status).toBe('active');
    await eventually(
      async () =>
        (await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body.status === 'expired',
    );
    const last = await h.knex('card_events').where({ cardId: card.id }).orderBy('id', 'desc').first();
    expect(last).toMatchObject({
      fromStatus: 'active',
      toStatus: 'expired',
      actorType: 'system',
      cause: 'card_expired',
    });
    // The partner is told right after the transition is recorded.
    await eventually(
      async () =>
        (await h.knex('sandbox.cards').where({ id: card.partnerCardId }).first()).status === 'canceled',
    );
    const desc = await h.temporal.workflow.getHandle(cardWorkflowId(t.id, card.id)).describe();
    expect(desc.typedSearchAttributes.get(CardStatusSA)).toBe('expired');
    const refreeze = await h.request('POST', `/v1/cards/${card.id}/freeze`, { key: t.appKey });
    expect(refreeze.status).toBe(409);
  });

  it('moves the expiry timer when an operator extends the expiry', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id, { expiresAt: inMs(3_000) })).body;
    const ext = await h.request('POST', `/admin/cards/${card.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'extend_expiry', params: { expiresAt: inMs(120_000) }, reason: 'delayed delivery' },
    });
    expect(ext.body.status).toBe('applied');
    // The timer armed before the extension (for the first expiry, the card's only deadline then)
    // fires and finds nothing due: wait for it to fire after the extension's update and for the
    // task that handled it to complete, then look. A card still expiring at the first date would
    // be expired by then.
    const handle = h.temporal.workflow.getHandle(cardWorkflowId(t.id, card.id));
    await eventually(async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const extended = events.findIndex(
        (e) =>
          e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'applyOverride',
      );
      const fired = events.findIndex((e, i) => i > extended && e.timerFiredEventAttributes);
      return (
        extended >= 0 &&
        fired > extended &&
        events.slice(fired).some((e) => e.workflowTaskCompletedEventAttributes)
      );
    });
    expect((await handle.query(getCardQuery)).status).toBe('active');
    const now = (await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body;
    expect(now.status).toBe('active');
    expect(Date.parse(now.expiresAt)).toBeGreaterThan(Date.now() + 100_000);
    const shorter = await h.request('POST', `/admin/cards/${card.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'extend_expiry', params: { expiresAt: inMs(10_000) }, reason: 'oops' },
    });
    expect(shorter.status).toBe(409);
    expect(shorter.body.error.code).toBe('EXPIRY_NOT_EXTENDED');
  });
});

describe('continue-as-new', () => {
  it('keeps status, controls, pending override timers and idempotency across several runs', async () => {
    const user = await newUser(h, t);
    const card = (
      await issueCard(h, t, user.id, {
        controls: { spendingLimits: [{ amount: 12_345, interval: 'weekly' }], maxAuthorizations: 3 },
      })
    ).body;
    const handle = h.temporal.workflow.getHandle(cardWorkflowId(t.id, card.id));
    const override = await h.request('POST', `/admin/cards/${card.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'allow_regions', params: { regions: ['CA'] }, reason: 'trip', expiresAt: inMs(15_000) },
    });
    expect(override.body.status).toBe('applied');

    // One freeze with a request key, then enough changes to force several runs.
    const key = uniq('req');
    const first = await handle.executeUpdate(changeStatusUpdate, {
      args: [{ transition: 'freeze', actor: { type: 'app', id: 'key_x' }, requestKey: key }],
    });
    expect(first.status).toBe('frozen');
    for (let i = 0; i < 12; i++) {
      const res = await h.request('POST', `/v1/cards/${card.id}/${i % 2 === 0 ? 'unfreeze' : 'freeze'}`, {
        key: t.appKey,
      });
      expect(res.status).toBe(200);
    }
    const snap = await handle.query(getCardQuery);
    expect(snap.runsSoFar).toBeGreaterThanOrEqual(2);
    expect(snap.status).toBe('frozen');
    expect(snap.controls).toMatchObject({
      allowedRegions: ['US', 'CA'],
      spendingLimits: [{ amount: 12_345, interval: 'weekly' }],
      maxAuthorizations: 3,
    });
    expect(snap.pendingOverrides).toEqual([expect.objectContaining({ actionId: override.body.id })]);

    // The old request key still answers with its first result, in a later run, and writes nothing.
    const eventsBefore = await h
      .knex('card_events')
      .where({ cardId: card.id })
      .count<{ count: number }[]>('* as count');
    const replayed = await handle.executeUpdate(changeStatusUpdate, {
      args: [{ transition: 'freeze', actor: { type: 'app', id: 'key_x' }, requestKey: key }],
    });
    expect(replayed).toEqual(first);
    expect(
      await h.knex('card_events').where({ cardId: card.id }).count<{ count: number }[]>('* as count'),
    ).toEqual(eventsBefore);

    // Balances and controls as the API shows them.
    const shown = (await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body;
    expect(shown.balances).toEqual({ held: 0, captured: 0, refunded: 0, available: { weekly: 12_345 } });

    // The override timer armed in the first run fires in a later one.
    await eventually(
      async () =>
        (await h.request('GET', `/admin/actions/${override.body.id}`, { key: t.operatorKey })).body.status ===
        'reverted',
      25_000,
    );
    expect((await handle.query(getCardQuery)).controls).toMatchObject({ allowedRegions: ['US'] });
    // Transition event keys stayed unique across runs: one row per change, in order.
    const events = await h.knex('card_events').where({ cardId: card.id }).orderBy('id');
    expect(events).toHaveLength(2 + 1 + 12);
  });
});
