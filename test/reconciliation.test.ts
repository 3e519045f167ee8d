import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { eventually } from './helpers/wait';
import { merchant, sendEvent } from './helpers/webhooks';
import { runSimulation } from '../src/simulator/simulator';
import { SandboxPartner } from '../src/partners/sandbox/adapter';
import { openCredentials } from '../src/webhooks/subscriptions';
import { DISCREPANCY_CATEGORIES, type DiscrepancyCategory } from '../src/domain/reconciliation';

jest.setTimeout(120_000);

const h = useHarness();

interface Injected {
  category: DiscrepancyCategory;
  /** The partner transaction id (transaction drift) or partner card id (card drift). */
  key: string;
}

const sandbox = (t: TestTenant, body: Record<string, unknown>) =>
  h.request('POST', '/sandbox/v1/transactions', { key: t.operatorKey, body });

async function ok<T = any>(p: Promise<{ status: number; body: T }>, status = 201): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function freshCard(t: TestTenant, userId: string): Promise<{ id: string; partnerCardId: string }> {
  const card = await ok(
    issueCard(h, t, userId, { controls: { spendingLimits: [{ amount: 500_000, interval: 'all_time' }] } }),
  );
  return { id: card.id, partnerCardId: card.partnerCardId };
}

/** Every asynchronous delivery of the tenant has been applied by its card (it has an outcome). */
async function settled(t: TestTenant): Promise<void> {
  await eventually(async () => {
    const [{ waiting }] = (
      await h.knex.raw(
        `SELECT count(*)::int AS waiting FROM webhook_handoffs x
          WHERE x.tenant_id = ? AND (x.status <> 'handed_off' OR NOT EXISTS (
                SELECT 1 FROM webhook_outcomes o WHERE o.tenant_id = x.tenant_id AND o.delivery_id = x.delivery_id))`,
        [t.id],
      )
    ).rows;
    return waiting === 0;
  }, 30_000);
}

/** Books drift of every category at the partner (or at us), `perCategory` of each; returns what was injected. */
async function injectDrift(t: TestTenant, perCategory: number): Promise<Injected[]> {
  const user = await newUser(h, t);
  const injected: Injected[] = [];
  const partner = new SandboxPartner(h.knex, h.stack.vaultKey);
  const authorize = async (cardId: string, amount: number) => {
    const r = await ok(sandbox(t, { cardId, type: 'authorization', amount, currency: 'USD', merchant }));
    expect(r.approved).toBe(true);
    return r.transactionId as string;
  };
  /** Books an event at the partner and delivers it with its data changed (the webhook and the partner's books disagree). */
  const deliverAltered = async (body: Record<string, unknown>, change: Record<string, unknown>) => {
    const r = await ok(sandbox(t, { ...body, defer: true }));
    const ev = r.event as { id: string; type: string; created: string; data: Record<string, unknown> };
    const sent = await sendEvent(
      h,
      t,
      ev.type,
      { ...ev.data, ...change },
      { id: ev.id, created: new Date(ev.created) },
    );
    expect(sent.status).toBe(200);
    return r.transactionId as string;
  };

  for (let i = 0; i < perCategory; i++) {
    // A partner-side freeze never announced.
    const frozen = await freshCard(t, user.id);
    await ok(
      h.request('POST', `/sandbox/v1/cards/${frozen.partnerCardId}/status`, {
        key: t.operatorKey,
        body: { status: 'frozen', silent: true },
      }),
      200,
    );
    injected.push({ category: 'card_status_mismatch', key: frozen.partnerCardId });

    // A card at the partner the platform never finished issuing.
    const orphan = await partner.createCard(await openCredentials(h.knex, h.vault, t.id, 'sandbox'), {
      programId: t.id,
      platformCardRef: uniq('card_orphan'),
      expiresAt: new Date(Date.now() + 365 * 86_400_000),
      currency: 'USD',
    });
    injected.push({ category: 'orphan_partner_card', key: orphan.partnerCardId });

    const card = await freshCard(t, user.id);
    // A dropped authorization: the partner booked it, its request never reached us.
    const dropped = await ok(
      sandbox(t, { cardId: card.partnerCardId, type: 'authorization', amount: 1_500, silent: true }),
    );
    injected.push({ category: 'missing_internal_transaction', key: dropped.transactionId });

    // A capture we were told about that the partner has no record of.
    const ghost = `sbt_ghost_${uniq('x')}`;
    const sent = await sendEvent(h, t, 'transaction.cleared', {
      transactionId: ghost,
      cardId: card.partnerCardId,
      amount: 2_000,
      currency: 'USD',
    });
    expect(sent.status).toBe(200);
    injected.push({ category: 'missing_partner_transaction', key: ghost });

    // A capture whose webhook carried another amount than the partner settled.
    const changed = await authorize(card.partnerCardId, 1_000);
    await deliverAltered(
      {
        cardId: card.partnerCardId,
        type: 'clearing',
        transactionId: changed,
        amount: 1_000,
        currency: 'USD',
      },
      { amount: 900 },
    );
    injected.push({ category: 'amount_mismatch', key: changed });

    // The same settlement reported twice (both announced: both books agree, both charged twice).
    const twice = await authorize(card.partnerCardId, 800);
    for (let k = 0; k < 2; k++)
      await ok(
        sandbox(t, {
          cardId: card.partnerCardId,
          type: 'clearing',
          transactionId: twice,
          amount: 800,
          currency: 'USD',
        }),
      );
    injected.push({ category: 'duplicate_capture', key: twice });

    // The partner expired a hold and never said so.
    const held = await authorize(card.partnerCardId, 700);
    await ok(sandbox(t, { cardId: card.partnerCardId, type: 'expiry', transactionId: held, silent: true }));
    injected.push({ category: 'stale_hold', key: held });

    // A force capture the partner settled in EUR, announced in USD.
    const fx = await deliverAltered(
      { cardId: card.partnerCardId, type: 'clearing', amount: 1_200, currency: 'EUR' },
      { currency: 'USD' },
    );
    injected.push({ category: 'currency_mismatch', key: fx });
  }
  return injected;
}

async function reconcile(t: TestTenant, body: Record<string, unknown> = {}) {
  const started = await h.request('POST', '/admin/reconciliations', {
    key: t.operatorKey,
    body: { partner: 'sandbox', ...body },
  });
  expect(started.status).toBe(202);
  expect(started.body.id).toMatch(/^rec_/);
  return eventually(async () => {
    const r = await h.request('GET', `/admin/reconciliations/${started.body.id}`, { key: t.operatorKey });
    expect(r.status).toBe(200);
    if (r.body.status === 'failed') throw new Error(`run failed: ${r.body.error}`);
    return r.body.status === 'completed' ? r.body : null;
  }, 60_000);
}

const openOf = async (t: TestTenant) => {
  const all: any[] = [];
  for (let cursor: string | null = null; ;) {
    const r: any = await h.request(
      'GET',
      `/admin/discrepancies?status=open&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { key: t.operatorKey },
    );
    expect(r.status).toBe(200);
    all.push(...r.body.data);
    cursor = r.body.nextCursor;
    if (!cursor) return all;
  }
};

const keyOf = (d: any): string => d.partnerTransactionId ?? d.partnerCardId;
const sorted = (xs: Injected[]) => [...xs].map((x) => `${x.category}:${x.key}`).sort();

describe('reconciliation', () => {
  let t: TestTenant;
  let injected: Injected[];
  let first: any;

  beforeAll(async () => {
    t = await newTenant(h);
    // A chaotic day first (duplicates, reordering, lost first attempts, delays; nothing silent): the
    // books agree, so none of it may be reported.
    const report = await runSimulation({
      baseUrl: h.baseUrl,
      appKey: t.appKey,
      operatorKey: t.operatorKey,
      webhookUrl: t.sandboxWebhookUrl,
      webhookSecret: t.sandboxWebhookSecret,
      cards: 4,
      purchasesPerCard: 6,
      concurrency: 4,
      seed: 7,
      chaos: { duplicates: 0.3, reorder: 0.3, drops: 0.2, delays: 0.3, maxDelayMs: 400, silent: 0 },
      settleTimeoutMs: 30_000,
    });
    expect(report.ok).toBe(true);
    injected = await injectDrift(t, 2);
    await settled(t);
  }, 120_000);

  it('reports exactly the injected drift, category by category, with both sides and the evidence', async () => {
    first = await reconcile(t, { autoHeal: false });
    const expected = Object.fromEntries(DISCREPANCY_CATEGORIES.map((c) => [c, 2]));
    expect(first.counts).toEqual(expected);
    expect(first.total).toBe(16);
    expect(first.progress.phase).toBe('completed');
    expect(first.progress.pagesFetched).toBeGreaterThan(3); // pages of 50
    expect(first.progress.compared.transactions).toBeGreaterThan(20);
    expect(first.progress.slices).toEqual({ total: 3, done: 3 });

    const found = first.discrepancies as any[];
    expect(found.map((d) => `${d.category}:${keyOf(d)}`).sort()).toEqual(sorted(injected));
    expect((await openOf(t)).length).toBe(16);

    const byCat = (c: string) => found.find((d) => d.category === c)!;
    const amount = byCat('amount_mismatch');
    expect(amount.internalValue).toMatchObject({ captured: 900, authorized: 1_000 });
    expect(amount.partnerValue).toMatchObject({ captured: 1_000, authorized: 1_000 });
    expect(amount.evidence.partnerRecords.map((r: any) => r.type)).toEqual(['authorization', 'clearing']);
    expect(amount.evidence.transactionEvents.map((e: any) => e.type)).toEqual([
      'authorization_request',
      'clearing',
    ]);
    expect(amount.evidence.deliveryIds.length).toBe(2);
    expect(byCat('duplicate_capture').partnerValue).toMatchObject({
      captured: 1_600,
      clearings: 2,
      authorized: 800,
    });
    expect(byCat('stale_hold')).toMatchObject({
      internalValue: { held: 700 },
      partnerValue: { held: 0, expired: true },
    });
    expect(byCat('currency_mismatch')).toMatchObject({
      internalValue: { currency: 'USD' },
      partnerValue: { currency: 'EUR' },
    });
    expect(byCat('card_status_mismatch')).toMatchObject({
      internalValue: { status: 'active' },
      partnerValue: { status: 'frozen' },
    });
    expect(byCat('missing_partner_transaction').partnerValue).toBeNull();
    expect(byCat('missing_internal_transaction').internalValue).toBeNull();
    // On the card's timeline.
    const tl = await h.request('GET', `/admin/cards/${amount.cardId}/timeline?limit=200`, {
      key: t.operatorKey,
    });
    expect(
      tl.body.data
        .filter((e: any) => e.type === 'discrepancy')
        .map((e: any) => e.category)
        .sort(),
    ).toEqual(expect.arrayContaining(['amount_mismatch', 'duplicate_capture', 'stale_hold']));
  });

  it('re-running the same window changes nothing', async () => {
    const before = await openOf(t);
    const again = await reconcile(t, { autoHeal: false, from: first.window.from, to: first.window.to });
    expect(again.window).toEqual(first.window);
    expect(again.counts).toEqual(first.counts);
    expect(again.progress).toMatchObject({ opened: 0, stillOpen: 16, closed: 0 });
    const after = await openOf(t);
    expect(after.map((d) => d.id).sort()).toEqual(before.map((d) => d.id).sort());
    expect(after.every((d) => d.lastSeenRunId === again.id && d.firstRunId === first.id)).toBe(true);
  });

  it('heals what the partner is authoritative for through the card workflow, and shows it on the timeline', async () => {
    const open = await openOf(t);
    const status = open.find((d) => d.category === 'card_status_mismatch')!;
    const stale = open.find((d) => d.category === 'stale_hold')!;
    const amount = open.find((d) => d.category === 'amount_mismatch')!;
    const healedRun = await reconcile(t);
    expect(healedRun.progress.healed).toBe(6); // 2 statuses, 2 expiries, 2 missing capture amounts

    // The card is frozen by its workflow, as the partner's webhook would have done.
    await eventually(async () => {
      const c = await h.request('GET', `/v1/cards/${status.cardId}`, { key: t.appKey });
      return c.body.status === 'frozen';
    });
    const tl = await h.request('GET', `/admin/cards/${status.cardId}/timeline?limit=200`, {
      key: t.operatorKey,
    });
    const freeze = tl.body.data.find((e: any) => e.type === 'state_transition' && e.to === 'frozen');
    expect(freeze).toMatchObject({
      source: 'reconciliation',
      actor: { type: 'partner', id: 'reconciliation:sandbox' },
    });
    expect(
      tl.body.data.find((e: any) => e.type === 'admin_action' && e.action === 'resolve_discrepancy'),
    ).toBeTruthy();

    // The expiry and the missing 100 of capture arrive as reconciliation-sourced transaction events.
    await eventually(async () => {
      const events = await h.knex('transaction_events').where({ tenantId: t.id, source: 'reconciliation' });
      return events.length === 4 ? events : null;
    });
    const tl2 = await h.request('GET', `/admin/cards/${amount.cardId}/timeline?limit=200`, {
      key: t.operatorKey,
    });
    const healedEvents = tl2.body.data.filter(
      (e: any) => e.type === 'transaction_event' && e.source === 'reconciliation',
    );
    expect(healedEvents.map((e: any) => `${e.eventType}:${e.amount}`).sort()).toEqual(
      ['authorization_expiry:0', 'clearing:100'], // this card's expiry and missing 100 of capture
    );
    for (const d of [status, stale, amount]) {
      const r = await h.request('GET', `/admin/discrepancies/${d.id}`, { key: t.operatorKey });
      expect(r.body).toMatchObject({
        status: 'resolved',
        resolution: 'auto_healed',
        resolvedBy: 'system:reconciliation',
      });
    }

    // Once applied, a re-run finds the healed drift gone and the rest unchanged.
    await settled(t);
    const after = await reconcile(t, { autoHeal: false });
    expect(after.counts).toEqual({
      missing_internal_transaction: 2,
      missing_partner_transaction: 2,
      duplicate_capture: 2,
      orphan_partner_card: 2,
      currency_mismatch: 2,
    });
  });

  it('closes discrepancies that no longer hold once the drift is fixed', async () => {
    const open = await openOf(t);
    const orphan = open.filter((d) => d.category === 'orphan_partner_card');
    // The partner retires the orphan cards (the drift goes away at the source).
    await h
      .knex('sandbox.cards')
      .whereIn(
        'id',
        orphan.map((d) => d.partnerCardId),
      )
      .delete();
    const run = await reconcile(t, { autoHeal: false });
    expect(run.counts.orphan_partner_card).toBeUndefined();
    expect(run.progress.closed).toBe(2);
    for (const d of orphan) {
      const r = await h.request('GET', `/admin/discrepancies/${d.id}`, { key: t.operatorKey });
      expect(r.body).toMatchObject({ status: 'resolved', resolution: 'auto_healed' });
      expect(r.body.resolutionNote).toContain(run.id);
    }
  });

  it('lets an operator resolve a discrepancy under audit, once, within the tenant', async () => {
    const open = await openOf(t);
    const d = open.find((x) => x.category === 'duplicate_capture')!;
    const bad = await h.request('POST', `/admin/discrepancies/${d.id}/resolve`, {
      key: t.operatorKey,
      body: { resolution: 'auto_healed', note: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const noNote = await h.request('POST', `/admin/discrepancies/${d.id}/resolve`, {
      key: t.operatorKey,
      body: { resolution: 'accepted' },
    });
    expect(noNote.status).toBe(400);
    const other = await newTenant(h);
    const foreign = await h.request('POST', `/admin/discrepancies/${d.id}/resolve`, {
      key: other.operatorKey,
      body: { resolution: 'accepted', note: 'not mine' },
    });
    expect(foreign.status).toBe(404);
    const app = await h.request('POST', `/admin/discrepancies/${d.id}/resolve`, {
      key: t.appKey,
      body: { resolution: 'accepted', note: 'apps cannot' },
    });
    expect(app.status).toBe(403);

    const res = await h.request('POST', `/admin/discrepancies/${d.id}/resolve`, {
      key: t.operatorKey,
      body: { resolution: 'accepted', note: 'the merchant refunded the second settlement offline' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'resolved',
      resolution: 'accepted',
      actionId: expect.stringMatching(/^act_/),
    });
    const action = await h.request('GET', `/admin/actions/${res.body.actionId}`, { key: t.operatorKey });
    expect(action.status).toBe(200);
    expect(action.body).toMatchObject({
      type: 'resolve_discrepancy',
      reason: 'the merchant refunded the second settlement offline',
    });
    const again = await h.request('POST', `/admin/discrepancies/${d.id}/resolve`, {
      key: t.operatorKey,
      body: { resolution: 'false_positive', note: 'again' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DISCREPANCY_ALREADY_RESOLVED');
    // The same drift found again stays accepted; the other duplicate is still open.
    const rerun = await reconcile(t, { autoHeal: false });
    expect(rerun.counts.duplicate_capture).toBe(1);
    expect(rerun.progress.acknowledged).toBe(1);
    expect((await openOf(t)).some((x) => x.fingerprint === d.fingerprint || x.id === d.id)).toBe(false);
  });

  it('refuses bad requests with stable codes', async () => {
    const cases: Array<[unknown, string]> = [
      [{ partner: 'acme' }, 'VALIDATION_FAILED'],
      [{ partner: 'sandbox', from: 'yesterday' }, 'VALIDATION_FAILED'],
      [{ partner: 'sandbox', from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'VALIDATION_FAILED'],
      [{ partner: 'sandbox', extra: 1 }, 'VALIDATION_FAILED'],
    ];
    for (const [body, code] of cases) {
      const r = await h.request('POST', '/admin/reconciliations', { key: t.operatorKey, body });
      expect([r.status, r.body.error?.code]).toEqual([400, code]);
    }
    const missing = await h.request('GET', '/admin/reconciliations/rec_doesnotexist', { key: t.operatorKey });
    expect(missing.status).toBe(404);
    const other = await newTenant(h);
    const foreign = await h.request('GET', `/admin/reconciliations/${first.id}`, { key: other.operatorKey });
    expect(foreign.status).toBe(404);
    const bad = await h.request('GET', '/admin/discrepancies?status=maybe', { key: t.operatorKey });
    expect(bad.status).toBe(400);
    // The sandbox's listings refuse a forged program key.
    const forged = await h.request('GET', '/sandbox/v1/cards', { key: `sbk.${t.id}.${'0'.repeat(40)}` });
    expect(forged.status).toBe(401);
  });
});
