import { cardWorkflowId } from '../src/domain/ids';
import { createApiKey } from '../src/tenants/api-keys';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';
import fs from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowsPath } from '../src/worker/create-worker';
import {
  bundleWorkflows,
  historiesDir,
  loadSavedHistories,
  payloadText,
  replayAll,
  replayResults,
  runsOf,
  saveHistory,
} from './helpers/histories';
import { merchant, sendEvent } from './helpers/webhooks';
import { eventually, inMs } from './helpers/wait';

/**
 * Determinism guard. The main card paths and a reconciliation run go against the real stack; each
 * resulting history is replayed against the current workflow code (the card workflow's and the
 * reconciliation workflow's). `RECORD_HISTORIES=1 npm test -- workflow-histories` also saves those
 * not saved yet under test/fixtures/histories (a saved history keeps checking the code it was
 * recorded under), where the replay test below keeps checking them after the workflow code changes.
 */
const RECORD = process.env.RECORD_HISTORIES === '1';

/**
 * Every saved history, by name. Before the first release they are deleted and re-recorded together
 * when the workflow code changes; after it, histories of older code stay (docs/patches.md).
 */
const SAVED = [
  'card-auth-from-books-run1',
  'card-auth-from-books-run2',
  'card-auth-hold-expiry-run1',
  'card-auth-hold-expiry-run2',
  'card-auth-lifecycle-run1',
  'card-auth-lifecycle-run2',
  'card-auth-lifecycle-run3',
  'card-auth-max-authorizations-run1',
  'card-auth-max-authorizations-run2',
  'card-continue-as-new-run1',
  'card-continue-as-new-run2',
  'card-continue-as-new-run3',
  'card-continue-as-new-run4',
  'card-freeze-by-app-run1',
  'card-freeze-by-app-run2',
  'card-freeze-by-operator',
  'card-issue',
  'card-override-expiry-run1',
  'card-override-expiry-run2',
  'card-override-with-approval',
  'reconciliation-run',
];

const h = useHarness({ maxHistoryEvents: 30, holdExpiryMs: 2_000, projectionFlushMs: 1_000 });
let t: TestTenant;
beforeAll(async () => {
  t = await newTenant(h, { overrideApprovalThreshold: 10_000, authorizationTimeoutMs: 10_000 });
});

/** The authorization lifecycle: decisions, the transaction's events, a stand-in, retirement, hold expiry. */
async function authorizationScenarios(ids: Record<string, string>): Promise<string> {
  const a = await newTenant(h, { weeklySpendLimitPerUser: 6_000, authorizationTimeoutMs: 10_000 });
  const user = await newUser(h, a);
  const card = async (extra: Record<string, unknown> = {}) => (await issueCard(h, a, user.id, extra)).body;
  const send = (type: string, data: Record<string, unknown>) => sendEvent(h, a, type, data);
  const auth = (c: { partnerCardId: string }, transactionId: string, amount: number) =>
    send('authorization.request', {
      transactionId,
      cardId: c.partnerCardId,
      amount,
      currency: 'USD',
      merchant,
    });
  const settled = (c: { id: string }, n: number) =>
    eventually(async () => (await h.knex('transaction_events').where({ cardId: c.id })).length >= n);

  const lifecycle = await card();
  await auth(lifecycle, 'tx-a', 2_000);
  await send('authorization.incremented', {
    transactionId: 'tx-a',
    cardId: lifecycle.partnerCardId,
    amount: 500,
  });
  await auth(lifecycle, 'tx-b', 1_000);
  await auth(lifecycle, 'tx-c', 9_000); // over the user's weekly cap
  await send('transaction.cleared', {
    transactionId: 'tx-a',
    cardId: lifecycle.partnerCardId,
    amount: 2_200,
    currency: 'USD',
  });
  await send('authorization.reversed', {
    transactionId: 'tx-b',
    cardId: lifecycle.partnerCardId,
    amount: 400,
  });
  await send('transaction.refunded', {
    refundId: 'r-1',
    transactionId: 'tx-a',
    cardId: lifecycle.partnerCardId,
    amount: 700,
    currency: 'USD',
  });
  await send('authorization.advice', {
    transactionId: 'tx-d',
    cardId: lifecycle.partnerCardId,
    amount: 300,
    currency: 'USD',
    merchant,
    approved: true,
  });
  // A stand-in the API answered (queued the way authorizeWithDeadline queues it).
  const standInFor = await auth(lifecycle, 'tx-e', 100);
  await h.knex('webhook_handoffs').insert({
    deliveryId: standInFor.body.id,
    tenantId: a.id,
    partner: 'sandbox',
    eventId: `${standInFor.eventId}:stand-in`,
    partnerCardId: lifecycle.partnerCardId,
    cardId: lifecycle.id,
    event: JSON.stringify({
      kind: 'authorization.stand_in',
      eventId: `${standInFor.eventId}:stand-in`,
      requestEventId: standInFor.eventId,
      partner: 'sandbox',
      partnerCardId: lifecycle.partnerCardId,
      occurredAtMs: Date.now(),
      transactionId: 'tx-e',
      amount: 100,
      currency: 'USD',
      merchant,
      approved: false,
    }),
    status: 'pending',
    source: 'system',
    nextAttemptAt: new Date(),
  });
  await settled(lifecycle, 10);
  ids['card-auth-lifecycle'] = lifecycle.id;

  const once = await card({ controls: { maxAuthorizations: 1 } });
  await auth(once, 'tx-m', 1_000);
  await auth(once, 'tx-n', 1_000); // MAX_AUTHORIZATIONS_REACHED
  await send('transaction.cleared', {
    transactionId: 'tx-m',
    cardId: once.partnerCardId,
    amount: 1_000,
    currency: 'USD',
  });
  await eventually(
    async () =>
      (await h.request('GET', `/v1/cards/${once.id}`, { key: a.appKey })).body.status === 'canceled',
  );
  ids['card-auth-max-authorizations'] = once.id;

  const lapsing = await card();
  await auth(lapsing, 'tx-h', 800);
  await eventually(
    async () =>
      (await h.knex('transaction_events').where({ cardId: lapsing.id, source: 'system' })).length === 1,
    10_000,
  );
  ids['card-auth-hold-expiry'] = lapsing.id;
  return a.id;
}

/**
 * A reconciliation run over one card with a little drift (a partner freeze and an authorization the
 * platform never heard of), healing on: staging, the comparison, a heal and the run's end.
 */
async function reconciliationScenario(ids: Record<string, string>): Promise<void> {
  const r = await newTenant(h);
  const c = (await issueCard(h, r, (await newUser(h, r)).id)).body;
  const freeze = await h.request('POST', `/sandbox/v1/cards/${c.partnerCardId}/status`, {
    key: r.operatorKey,
    body: { status: 'frozen', silent: true },
  });
  expect(freeze.status).toBe(200);
  const auth = await h.request('POST', '/sandbox/v1/transactions', {
    key: r.operatorKey,
    body: { cardId: c.partnerCardId, type: 'authorization', amount: 1_500, silent: true },
  });
  expect(auth.status).toBe(201);
  const started = await h.request('POST', '/admin/reconciliations', {
    key: r.operatorKey,
    body: { partner: 'sandbox' },
  });
  expect(started.status).toBe(202);
  const run = await eventually(async () => {
    const got = await h.request('GET', `/admin/reconciliations/${started.body.id}`, { key: r.operatorKey });
    if (got.body.status === 'failed') throw new Error(`reconciliation failed: ${got.body.error}`);
    return got.body.status === 'completed' ? got.body : null;
  }, 30_000);
  expect(run.counts).toEqual({ card_status_mismatch: 1, missing_internal_transaction: 1 });
  expect(run.progress.healed).toBe(1);
  ids['reconciliation-run'] = started.body.workflowId;
}

async function scenarios(): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const card = async () => (await issueCard(h, t, (await newUser(h, t)).id)).body;

  const issued = await card();
  ids['card-issue'] = issued.id;

  const appFrozen = await card();
  await h.request('POST', `/v1/cards/${appFrozen.id}/freeze`, { key: t.appKey });
  await h.request('POST', `/v1/cards/${appFrozen.id}/unfreeze`, { key: t.appKey });
  ids['card-freeze-by-app'] = appFrozen.id;

  const opFrozen = await card();
  await h.request('POST', `/admin/cards/${opFrozen.id}/actions`, {
    key: t.operatorKey,
    body: { type: 'freeze', reason: 'fraud' },
  });
  await h.request('POST', `/v1/cards/${opFrozen.id}/unfreeze`, { key: t.appKey }); // refused: frozen by operator
  ids['card-freeze-by-operator'] = opFrozen.id;

  const approved = await card();
  const pending = await h.request('POST', `/admin/cards/${approved.id}/actions`, {
    key: t.operatorKey,
    body: {
      type: 'set_spending_limits',
      params: { spendingLimits: [{ amount: 40_000, interval: 'monthly' }] },
      reason: 'vip',
    },
  });
  const otherApprover = (await createApiKey(h.knex, t.id, 'approver', 'replay approver')).key;
  await h.request('POST', `/admin/actions/${pending.body.id}/approve`, { key: otherApprover });
  ids['card-override-with-approval'] = approved.id;

  const expiring = await card();
  const o = await h.request('POST', `/admin/cards/${expiring.id}/actions`, {
    key: t.operatorKey,
    body: { type: 'freeze', reason: 'cool-off', expiresAt: inMs(1_500) },
  });
  await eventually(
    async () =>
      (await h.request('GET', `/admin/actions/${o.body.id}`, { key: t.operatorKey })).body.status ===
      'reverted',
  );
  ids['card-override-expiry'] = expiring.id;

  // Decided from the card's books (no weekly cap): a request and an increment answered in their
  // own workflow task and written by the API, a redelivery checked against the database, a
  // decline, a clearing through the card's own write, and the card's backstop write of them.
  const books = await card();
  const booksAuth = (transactionId: string, amount: number, o: { id?: string; mcc?: string } = {}) =>
    sendEvent(
      h,
      t,
      'authorization.request',
      {
        transactionId,
        cardId: books.partnerCardId,
        amount,
        currency: 'USD',
        merchant: { ...merchant, ...(o.mcc ? { mcc: o.mcc } : {}) },
      },
      { id: o.id },
    );
  const first = await booksAuth('tx-books', 1_500);
  expect(first.body.approved).toBe(true);
  await sendEvent(h, t, 'authorization.incremented', {
    transactionId: 'tx-books',
    cardId: books.partnerCardId,
    amount: 500,
  });
  expect((await booksAuth('tx-books', 1_500, { id: first.eventId })).body.approved).toBe(true);
  await booksAuth('tx-books-2', 700_000_000); // over the card's limit: declined from the books
  await sendEvent(h, t, 'transaction.cleared', {
    transactionId: 'tx-books',
    cardId: books.partnerCardId,
    amount: 2_000,
    currency: 'USD',
  });
  await eventually(async () => {
    const runs = await runsOf(h.temporal, cardWorkflowId(t.id, books.id));
    // The local activity's marker names it.
    return payloadText(runs.map((r) => r.history)).includes('projectMoneyEvents');
  }, 15_000);
  ids['card-auth-from-books'] = books.id;

  const long = await card();
  for (let i = 0; i < 8; i++)
    await h.request('POST', `/v1/cards/${long.id}/${i % 2 ? 'unfreeze' : 'freeze'}`, { key: t.appKey });
  ids['card-continue-as-new'] = long.id;
  return ids;
}

describe('workflow histories', () => {
  it('replays the histories of the main card paths and of a reconciliation run, every run of each', async () => {
    const ids = await scenarios();
    const authIds: Record<string, string> = {};
    const authTenant = await authorizationScenarios(authIds);
    const reconciliationIds: Record<string, string> = {};
    await reconciliationScenario(reconciliationIds);
    const histories: Array<{ workflowId: string; history: unknown }> = [];
    const all = [
      ...Object.entries(ids).map(([name, cardId]) => ({ name, workflowId: cardWorkflowId(t.id, cardId) })),
      ...Object.entries(authIds).map(([name, cardId]) => ({
        name,
        workflowId: cardWorkflowId(authTenant, cardId),
      })),
      ...Object.entries(reconciliationIds).map(([name, workflowId]) => ({ name, workflowId })),
    ];
    for (const { name, workflowId } of all) {
      const runs = await runsOf(h.temporal, workflowId);
      expect(runs.length).toBeGreaterThanOrEqual(1);
      if (name === 'card-continue-as-new') expect(runs.length).toBeGreaterThanOrEqual(2);
      runs.forEach((r, i) => {
        const label = runs.length > 1 ? `${name}-run${i + 1}` : name;
        histories.push({ workflowId: label, history: r.history });
        // Recorded once: a saved history keeps checking the code it was recorded under.
        if (RECORD && !fs.existsSync(path.join(historiesDir, `${label}.json`)))
          saveHistory(label, r.history!);
      });
    }
    expect(await replayAll(h.stack.workflowBundlePath, histories)).toEqual([]);
    // Three scenario groups against real timers, one after the other: the waits they allow
    // themselves (up to 30 s for the reconciliation run alone) outlast jest's default 60 s on a
    // busy host.
  }, 240_000);

  it('replays every saved history under test/fixtures/histories', async () => {
    const saved = loadSavedHistories();
    expect(saved.map((s) => s.workflowId)).toEqual(SAVED);
    expect(await replayAll(h.stack.workflowBundlePath, saved)).toEqual([]);
  });
});

/** Negative controls: the replay test fails when the workflow code stops matching the histories. */
describe('workflow histories against non-deterministic changes', () => {
  const errorOf = (r: { error?: Error }) =>
    r.error instanceof DeterminismViolationError ? 'DeterminismViolationError' : String(r.error);
  const inOrder = <T extends { workflowId: string }>(rs: T[]): T[] =>
    [...rs].sort((a, b) => a.workflowId.localeCompare(b.workflowId));

  it('fail, every one, when each workflow issues one extra command first', async () => {
    const saved = loadSavedHistories();
    const bundle = await bundleWorkflows(require.resolve('./fixtures/nondeterministic/extra-first-command'));
    const results = inOrder(await replayResults(bundle, saved));
    expect(results.map((r) => ({ history: r.workflowId, error: errorOf(r) }))).toEqual(
      SAVED.map((history) => ({ history, error: 'DeterminismViolationError' })),
    );
  }, 180_000);

  it('fail where a transition is recorded when that database activity runs remote instead of local', async () => {
    const saved = loadSavedHistories();
    const recordsTransition = saved
      .filter((s) => payloadText(s.history).includes('recordTransition'))
      .map((s) => s.workflowId);
    // Every first run of a card issues it (a transition); the reconciliation run records none.
    const firstCardRuns = SAVED.filter((n) => n.startsWith('card-') && !/-run([2-9]|\d\d)$/.test(n));
    expect(recordsTransition).toEqual(expect.arrayContaining(firstCardRuns));
    expect(recordsTransition).not.toContain('reconciliation-run');

    const bundle = await bundleWorkflows(workflowsPath, {
      context: path.join(__dirname, '..', 'src', 'workflows', 'card'),
      request: './activities',
      by: require.resolve('./fixtures/nondeterministic/remote-transitions'),
    });
    const results = inOrder(await replayResults(bundle, saved));
    const failed = results.filter((r) => r.error);
    expect(failed.map((r) => r.workflowId)).toEqual(recordsTransition);
    for (const r of failed)
      expect({ history: r.workflowId, error: errorOf(r) }).toEqual({
        history: r.workflowId,
        error: 'DeterminismViolationError',
      });
  }, 180_000);
});
