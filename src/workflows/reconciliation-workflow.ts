/**
 * One reconciliation run of a tenant's books with one partner's: stage the partner's cards and
 * transactions (the window read in parallel slices), compare in SQL, heal what is safe, record the
 * outcome. Progress is a query (`GET /admin/reconciliations/:id` shows it while the run goes).
 */
import {
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReconciliationActivities, StagePagesResult } from '../activities/reconciliation-activities';
import { sliceWindow } from '../domain/reconciliation';
import {
  progressQuery,
  type ReconciliationInput,
  type ReconciliationProgress,
} from './reconciliation-messages';

const acts = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Records before the window are read too, so a transaction that began just before it is seen whole and left out. */
const WINDOW_MARGIN_MS = 5 * 60_000;
/** Pages per activity call: the workflow's progress moves this often. */
const PAGES_PER_CALL = 10;

const DEFAULTS = {
  lookbackMs: 35 * 86_400_000,
  settleMs: 60_000,
  autoHeal: true,
  slices: 4,
  pageSize: 1000,
};
const stripUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export async function reconciliationWorkflow(input: ReconciliationInput): Promise<ReconciliationProgress> {
  const state: ReconciliationProgress = {
    runId: null,
    phase: 'starting',
    cardsStaged: 0,
    recordsStaged: 0,
    pagesFetched: 0,
    slices: { total: 0, done: 0 },
    counts: {},
    compared: null,
    opened: 0,
    stillOpen: 0,
    closed: 0,
    acknowledged: 0,
    healed: 0,
    error: null,
  };
  setHandler(progressQuery, () => state);

  // Arguments a schedule created by an older version may lack.
  input = { ...DEFAULTS, ...stripUndefined(input) };
  const info = workflowInfo();
  const startMs = Date.now();
  const runId = input.runId ?? `rec_${uuid4().replace(/-/g, '').slice(0, 26)}`;
  state.runId = runId;
  const toMs = input.toMs ?? startMs;
  const fromMs = input.fromMs ?? toMs - input.lookbackMs;
  const base = { runId, tenantId: input.tenantId, partner: input.partner };

  try {
    // Inside the try: a run that cannot even begin is recorded as failed, and its stage dropped.
    const window = await acts.beginRun({
      ...base,
      trigger: input.trigger,
      workflowId: info.workflowId,
      fromMs,
      toMs,
      // The partner's records are read up to the run's start (or the window's end, if later).
      cutoffMs: Math.max(startMs, toMs),
      options: {
        autoHeal: input.autoHeal,
        settleMs: input.settleMs,
        slices: input.slices,
        pageSize: input.pageSize,
      },
    });

    state.phase = 'staging_cards';
    for (let cursor: string | null = null; ;) {
      const r: StagePagesResult = await acts.stagePages({
        ...base,
        kind: 'cards',
        cursor,
        pageSize: input.pageSize,
        maxPages: PAGES_PER_CALL,
      });
      state.cardsStaged += r.staged;
      state.pagesFetched += r.pages;
      cursor = r.nextCursor;
      if (!cursor) break;
    }

    state.phase = 'staging_transactions';
    const slices = sliceWindow(window.fromMs - WINDOW_MARGIN_MS, window.cutoffMs, input.slices);
    state.slices.total = slices.length;
    // Every slice finishes (or fails) before the run goes on or the stage is dropped under them.
    const outcomes = await Promise.allSettled(
      slices.map(async (slice) => {
        for (let cursor: string | null = null; ;) {
          const r: StagePagesResult = await acts.stagePages({
            ...base,
            kind: 'transactions',
            fromMs: slice.fromMs,
            toMs: slice.toMs,
            cursor,
            pageSize: input.pageSize,
            maxPages: PAGES_PER_CALL,
          });
          state.recordsStaged += r.staged;
          state.pagesFetched += r.pages;
          cursor = r.nextCursor;
          if (!cursor) break;
        }
        state.slices.done += 1;
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;

    state.phase = 'comparing';
    const result = await acts.compare({
      ...base,
      fromMs: window.fromMs,
      toMs: window.toMs,
      cutoffMs: window.cutoffMs,
      settleMs: input.settleMs,
    });
    state.counts = result.counts;
    state.compared = result.compared;
    state.opened = result.opened;
    state.stillOpen = result.stillOpen;
    state.closed = result.closed;
    state.acknowledged = result.acknowledged;

    if (input.autoHeal) {
      state.phase = 'healing';
      state.healed = (await acts.heal(base)).healed;
    }
    state.phase = 'completed';
    await acts.finishRun({
      ...base,
      status: 'completed',
      counts: result.counts as Record<string, number>,
      progress: state,
    });
    return state;
  } catch (err) {
    state.phase = 'failed';
    state.error = String((err as Error)?.message ?? err).slice(0, 1000);
    // Recorded even when the run was cancelled.
    await CancellationScope.nonCancellable(() =>
      acts.finishRun({
        ...base,
        status: 'failed',
        counts: state.counts as Record<string, number>,
        progress: state,
        error: state.error,
      }),
    );
    throw ApplicationFailure.nonRetryable(`reconciliation ${runId} failed: ${state.error}`);
  } finally {
    await CancellationScope.nonCancellable(() => acts.dropStage({ runId }));
  }
}
