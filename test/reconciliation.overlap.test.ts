/**
 * A tenant's reconciliation schedule never runs two at once: while a run is still going (here it
 * cannot finish, its worker is stopped), every later tick is skipped by Temporal.
 */
import { ensureReconciliationSchedule } from '../src/reconciliation/runs';
import { reconciliationScheduleId } from '../src/workflows/reconciliation-messages';
import { useHarness } from './helpers/harness';
import { newTenant, type TestTenant } from './helpers/fixtures';
import { eventually } from './helpers/wait';

const h = useHarness();
let t: TestTenant;

beforeAll(async () => {
  t = await newTenant(h);
});

describe('the reconciliation schedule', () => {
  it('skips a tick while the previous run is still running', async () => {
    const scheduleId = reconciliationScheduleId(t.id, 'sandbox');
    const schedule = h.temporal.schedule.getHandle(scheduleId);
    await h.stopWorker();
    const started = new Set<string>();
    try {
      // The tenant's schedule (made with the tenant), now every second.
      await ensureReconciliationSchedule(
        { knex: h.knex, temporal: h.temporal, taskQueue: h.taskQueue, settings: { intervalMs: 1_000 } },
        { tenantId: t.id, partner: 'sandbox' },
      );
      const desc = await eventually(async () => {
        const d = await schedule.describe();
        for (const a of d.info.runningActions) started.add(a.workflow.workflowId);
        expect(d.info.runningActions.length).toBeLessThanOrEqual(1);
        return d.info.numActionsSkippedOverlap >= 2 && d;
      }, 30_000);
      expect(desc.policies.overlap).toBe('SKIP');
      expect(desc.info.runningActions).toHaveLength(1);
      expect(started.size).toBe(1);
    } finally {
      await schedule.delete();
      for (const workflowId of started)
        await h.temporal.workflow
          .getHandle(workflowId)
          .terminate('test over')
          .catch(() => undefined);
      await h.startWorker();
    }
  });
});
