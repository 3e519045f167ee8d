import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';
import { eventually } from './helpers/wait';
import { merchant, sendEvent } from './helpers/webhooks';
import { createStage, stageTables } from '../src/reconciliation/stage';
import { newId } from '../src/lib/ids';

jest.setTimeout(120_000);

/** Small pages: a run of a few hundred records takes long enough to be watched. */
const h = useHarness({ reconciliation: { pageSize: 10, slices: 2 } });

async function ok<T = any>(p: Promise<{ status: number; body: T }>, status = 201): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}
const sandbox = (t: TestTenant, body: Record<string, unknown>) =>
  ok(h.request('POST', '/sandbox/v1/transactions', { key: t.operatorKey, body }));

async function cardOf(t: TestTenant) {
  const user = await newUser(h, t);
  return ok<{ id: string; partnerCardId: string }>(
    issueCard(h, t, user.id, { controls: { spendingLimits: [{ amount: 500_000, interval: 'all_time' }] } }),
  );
}

async function start(t: TestTenant, body: Record<string, unknown> = {}) {
  const r = await h.request('POST', '/admin/reconciliations', {
    key: t.operatorKey,
    body: { partner: 'sandbox', ...body },
  });
  expect(r.status).toBe(202);
  return r.body.id as string;
}
const runOf = async (t: TestTenant, id: string) =>
  (await ok(h.request('GET', `/admin/reconciliations/${id}`, { key: t.operatorKey }), 200)) as any;
const finished = (t: TestTenant, id: string) =>
  eventually(async () => {
    const r = await runOf(t, id);
    if (r.status === 'failed') throw new Error(`run failed: ${r.error}`);
    return r.status === 'completed' ? r : null;
  }, 60_000);
const reconcile = async (t: TestTenant, body: Record<string, unknown> = {}) =>
  finished(t, await start(t, body));

/** A new tenant's card with one purchase the partner asked us to approve (and we did). */
async function authorizedAtPartner(amount: number) {
  const t = await newTenant(h);
  const card = await cardOf(t);
  const auth = await sandbox(t, { cardId: card.partnerCardId, type: 'authorization', amount, merchant });
  expect(auth.approved).toBe(true);
  return { t, card, auth };
}

const transactionOf = async (t: TestTenant, cardId: string, partnerTransactionId: string) => {
  const page = await ok(
    h.request('GET', `/v1/cards/${cardId}/transactions?limit=100`, { key: t.appKey }),
    200,
  );
  return (page as any).data.find((x: any) => x.partnerTransactionId === partnerTransactionId);
};

describe('reconciliation, at its edges', () => {
  it('takes a webhook that arrives after reconciliation healed its record as a duplicate: the capture counts once', async () => {
    const { t, card, auth } = await authorizedAtPartner(1_000);
    // The partner settles; its webhook is held back (a partner retrying after an outage).
    const clearing = await sandbox(t, {
      cardId: card.partnerCardId,
      type: 'clearing',
      transactionId: auth.transactionId,
      amount: 1_000,
      currency: 'USD',
      defer: true,
    });
    const late = clearing.event as {
      id: string;
      type: string;
      created: string;
      data: Record<string, unknown>;
    };

    const run = await reconcile(t);
    expect(run.counts).toEqual({ amount_mismatch: 1 });
    expect(run.progress.healed).toBe(1);
    const healed = run.discrepancies[0];
    expect(healed.evidence.partnerRecords.find((r: any) => r.type === 'clearing').eventId).toBe(late.id);
    await eventually(
      async () => (await transactionOf(t, card.id, auth.transactionId))?.capturedAmount === 1_000,
    );

    // The held-back webhook arrives at last: the card has applied that event already.
    const sent = await sendEvent(h, t, late.type, late.data, {
      id: late.id,
      created: new Date(late.created),
    });
    expect(sent.status).toBe(200);
    const outcome = await eventually(async () => {
      const rows = await h.knex('webhook_outcomes').where({ deliveryId: sent.body.id });
      return rows.length ? rows.map((o) => o.outcome) : null;
    });
    expect(outcome).toEqual(['duplicate']);
    const txn = await transactionOf(t, card.id, auth.transactionId);
    expect(txn).toMatchObject({ capturedAmount: 1_000, heldAmount: 0 });
    // And the books agree: nothing to report.
    expect((await reconcile(t)).counts).toEqual({});
  });

  it('leaves a change younger than settleMs to the next run, then judges it', async () => {
    const { t, card, auth } = await authorizedAtPartner(500);
    await sandbox(t, {
      cardId: card.partnerCardId,
      type: 'clearing',
      transactionId: auth.transactionId,
      amount: 500,
      silent: true,
    });
    // Its webhook may still be on its way: not judged, and not counted as compared.
    const young = await reconcile(t, { settleMs: 60_000, autoHeal: false });
    expect(young.counts).toEqual({});
    expect(young.progress.compared.transactions).toBe(0);
    const judged = await reconcile(t, { settleMs: 0, autoHeal: false });
    expect(judged.counts).toEqual({ amount_mismatch: 1 });
    expect(judged.progress.compared.transactions).toBe(1);
    // A young re-run keeps what it cannot judge yet open, rather than closing it.
    const again = await reconcile(t, { settleMs: 60_000, autoHeal: false });
    expect(again.progress.closed).toBe(0);
    const open = await ok(h.request('GET', '/admin/discrepancies?status=open', { key: t.operatorKey }), 200);
    expect((open as any).data.map((d: any) => d.id)).toEqual([judged.discrepancies[0].id]);
  });

  it('reconciles the exact window it is given again without change, and the partner-only transaction is on our card’s timeline', async () => {
    const t = await newTenant(h);
    const card = await cardOf(t);
    const dropped = await sandbox(t, {
      cardId: card.partnerCardId,
      type: 'authorization',
      amount: 700,
      silent: true,
    });
    const first = await reconcile(t, { autoHeal: false });
    expect(first.counts).toEqual({ missing_internal_transaction: 1 });
    const d = first.discrepancies[0];
    expect(d).toMatchObject({ partnerTransactionId: dropped.transactionId, cardId: card.id });
    const tl = await ok(
      h.request('GET', `/admin/cards/${card.id}/timeline?limit=100`, { key: t.operatorKey }),
      200,
    );
    expect((tl as any).data.filter((e: any) => e.type === 'discrepancy').map((e: any) => e.category)).toEqual(
      ['missing_internal_transaction'],
    );

    const same = await reconcile(t, { from: first.window.from, to: first.window.to, autoHeal: false });
    expect(same.window).toEqual(first.window);
    expect(same.counts).toEqual(first.counts);
    expect(same.progress).toMatchObject({ opened: 0, stillOpen: 1, closed: 0 });
  });

  it('shows a run’s progress from its workflow while it runs', async () => {
    const t = await newTenant(h);
    const card = await cardOf(t);
    // Enough partner records for many pages of ten.
    for (let i = 0; i < 60; i++)
      await sandbox(t, { cardId: card.partnerCardId, type: 'authorization', amount: 10 + i, silent: true });
    const id = await start(t, { autoHeal: false });
    const seen: any[] = [];
    const done = await eventually(
      async () => {
        const r = await runOf(t, id);
        if (r.status === 'running' && r.progress?.phase) seen.push(r.progress);
        return r.status === 'completed' ? r : null;
      },
      60_000,
      5,
    );
    // Read from the running workflow (the stored row has no progress until the run ends), and in
    // the order the run goes through its phases.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.runId === id)).toBe(true);
    const order = ['starting', 'staging_cards', 'staging_transactions', 'comparing', 'healing', 'completed'];
    const phases = seen.map((p) => order.indexOf(p.phase));
    expect(phases.every((x) => x >= 0)).toBe(true);
    expect([...phases].sort((a, b) => a - b)).toEqual(phases);
    // Progress only moves forward, and ends where the stored run ends.
    const staged = seen.map((p) => p.recordsStaged);
    expect([...staged].sort((a, b) => a - b)).toEqual(staged);
    expect(done.progress.recordsStaged).toBeGreaterThanOrEqual(staged[staged.length - 1]);
    expect(done.counts).toEqual({ missing_internal_transaction: 60 });
    expect(done.moreDiscrepancies).toBe(false);
    expect(done.discrepanciesUrl).toBe(`/admin/discrepancies?runId=${id}`);
  });

  it('drops the stage a run left behind when it never finished', async () => {
    const t = await newTenant(h);
    // A run whose workflow was terminated: recorded as failed, its staged listings still there.
    const orphanRun = newId('reconciliation');
    await h.knex('reconciliation_runs').insert({
      id: orphanRun,
      tenantId: t.id,
      partner: 'sandbox',
      windowFrom: new Date(Date.now() - 86_400_000),
      windowTo: new Date(),
      trigger: 'manual',
      workflowId: `reconcile:${t.id}:${orphanRun}`,
      status: 'failed',
    });
    await createStage(h.knex, orphanRun);
    const tableExists = async (name: string) =>
      (await h.knex.raw(`SELECT to_regclass(?) IS NOT NULL AS present`, [name])).rows[0].present as boolean;
    expect(await tableExists(stageTables(orphanRun).records)).toBe(true);
    await reconcile(t);
    expect(await tableExists(stageTables(orphanRun).records)).toBe(false);
    expect(await tableExists(stageTables(orphanRun).cards)).toBe(false);
  });

  it('gives a new tenant its reconciliation schedule', async () => {
    const t = (await newTenant(h)) as TestTenant & { reconciliationSchedule: string };
    expect(t.reconciliationSchedule).toBe(`reconcile:${t.id}:sandbox`);
    const described = await h.temporal.schedule.getHandle(t.reconciliationSchedule).describe();
    expect(described.action).toMatchObject({ workflowType: 'reconciliationWorkflow' });
  });

  it('refuses a window in the future', async () => {
    const t = await newTenant(h);
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    for (const body of [
      { partner: 'sandbox', to: soon },
      { partner: 'sandbox', from: soon },
    ]) {
      const r = await h.request('POST', '/admin/reconciliations', { key: t.operatorKey, body });
      expect([r.status, r.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
  });
});
