import { cardWorkflowId } from '../src/domain/ids';
import { createApiKey } from '../src/services/api-keys';
import { startHarness, type Harness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';
import { loadSavedHistories, replayAll, runsOf, saveHistory } from './helpers/histories';
import { eventually, inMs } from './helpers/wait';

/**
 * Determinism guard. The main card paths run against the real stack; each resulting history is
 * replayed against the current workflow code. `RECORD_HISTORIES=1 npm test -- workflow-histories`
 * also saves them under test/fixtures/histories, where the replay test below keeps checking them
 * after the workflow code changes.
 */
const RECORD = process.env.RECORD_HISTORIES === '1';

let h: Harness;
let t: TestTenant;
beforeAll(async () => {
  h = await startHarness({ maxHistoryEvents: 30 });
  t = await newTenant(h, { overrideApprovalThreshold: 10_000 });
});
afterAll(() => h.stop());

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

  const long = await card();
  for (let i = 0; i < 8; i++)
    await h.request('POST', `/v1/cards/${long.id}/${i % 2 ? 'unfreeze' : 'freeze'}`, { key: t.appKey });
  ids['card-continue-as-new'] = long.id;
  return ids;
}

describe('workflow histories', () => {
  it('replays the histories of the main card paths, every run of each', async () => {
    const ids = await scenarios();
    const histories: Array<{ workflowId: string; history: unknown }> = [];
    for (const [name, cardId] of Object.entries(ids)) {
      const runs = await runsOf(h.temporal, cardWorkflowId(t.id, cardId));
      expect(runs.length).toBeGreaterThanOrEqual(1);
      if (name === 'card-continue-as-new') expect(runs.length).toBeGreaterThanOrEqual(2);
      runs.forEach((r, i) => {
        const label = runs.length > 1 ? `${name}-run${i + 1}` : name;
        histories.push({ workflowId: label, history: r.history });
        if (RECORD) saveHistory(label, r.history!);
      });
    }
    expect(await replayAll(h.stack.workflowBundlePath, histories)).toEqual([]);
  });

  it('replays the recorded histories under test/fixtures/histories', async () => {
    const saved = loadSavedHistories();
    expect(saved.length).toBeGreaterThanOrEqual(6);
    expect(await replayAll(h.stack.workflowBundlePath, saved)).toEqual([]);
  });
});
