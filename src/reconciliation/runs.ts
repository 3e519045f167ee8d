/**
 * Starting reconciliation runs (on demand) and keeping each tenant's schedule (hourly by default).
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
} from '@temporalio/client';
import type { Knex } from 'knex';
import { DEFAULT_RECONCILIATION, type ReconciliationSettings } from '../config';
import { newId } from '../lib/ids';
import type { reconciliationWorkflow } from '../workflows/reconciliation-workflow';
import {
  reconciliationScheduleId,
  reconciliationWorkflowId,
  type ReconciliationInput,
} from '../workflows/reconciliation-messages';

export interface ReconciliationService {
  knex: Knex;
  temporal: Client;
  taskQueue: string;
  settings?: Partial<ReconciliationSettings>;
}

const settingsOf = (s?: Partial<ReconciliationSettings>): ReconciliationSettings => ({
  ...DEFAULT_RECONCILIATION,
  ...s,
});

function workflowInput(
  s: ReconciliationSettings,
  base: Pick<ReconciliationInput, 'tenantId' | 'partner' | 'trigger'> & Partial<ReconciliationInput>,
): ReconciliationInput {
  return {
    lookbackMs: s.lookbackMs,
    settleMs: s.settleMs,
    autoHeal: s.autoHeal,
    slices: s.slices,
    pageSize: s.pageSize,
    ...base,
  };
}

/**
 * Starts a run now: its row first (so it can be read at once), then its workflow. The window
 * defaults to [now − lookback, now).
 */
export async function startReconciliation(
  svc: ReconciliationService,
  input: {
    tenantId: string;
    partner: string;
    from?: Date;
    to?: Date;
    requestedBy: string;
    autoHeal?: boolean;
    settleMs?: number;
  },
): Promise<{ id: string; workflowId: string; windowFrom: Date; windowTo: Date }> {
  const s = settingsOf(svc.settings);
  const now = Date.now();
  const to = input.to ?? new Date(now);
  const from = input.from ?? new Date(to.getTime() - s.lookbackMs);
  const id = newId('reconciliation');
  const workflowId = reconciliationWorkflowId(input.tenantId, id);
  await svc.knex('reconciliation_runs').insert({
    id,
    tenantId: input.tenantId,
    partner: input.partner,
    windowFrom: from,
    windowTo: to,
    trigger: 'manual',
    workflowId,
    status: 'running',
    options: {
      requestedBy: input.requestedBy,
      ...(input.autoHeal === undefined ? {} : { autoHeal: input.autoHeal }),
    },
  });
  try {
    await svc.temporal.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', {
      workflowId,
      taskQueue: svc.taskQueue,
      args: [
        workflowInput(s, {
          tenantId: input.tenantId,
          partner: input.partner,
          trigger: 'manual',
          runId: id,
          fromMs: from.getTime(),
          toMs: to.getTime(),
          ...(input.autoHeal === undefined ? {} : { autoHeal: input.autoHeal }),
          ...(input.settleMs === undefined ? {} : { settleMs: input.settleMs }),
        }),
      ],
    });
  } catch (err) {
    await svc
      .knex('reconciliation_runs')
      .where({ id })
      .update({
        status: 'failed',
        error: `could not start: ${String(err)}`.slice(0, 1000),
        finishedAt: svc.knex.fn.now(),
      });
    throw err;
  }
  return { id, workflowId, windowFrom: from, windowTo: to };
}

/**
 * Creates (or updates) the tenant's reconciliation schedule for a partner: a run every
 * `intervalMs`, never two at once (a run still going makes the next one skip).
 */
export async function ensureReconciliationSchedule(
  svc: ReconciliationService,
  input: { tenantId: string; partner: string },
): Promise<{ scheduleId: string; intervalMs: number }> {
  const s = settingsOf(svc.settings);
  const scheduleId = reconciliationScheduleId(input.tenantId, input.partner);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconciliationWorkflow',
    workflowId: `${scheduleId}:scheduled`,
    taskQueue: svc.taskQueue,
    args: [workflowInput(s, { tenantId: input.tenantId, partner: input.partner, trigger: 'schedule' })],
  };
  const spec = { intervals: [{ every: s.intervalMs }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.intervalMs };
  try {
    await svc.temporal.schedule.create({
      scheduleId,
      spec,
      action,
      policies,
      memo: { tenantId: input.tenantId, partner: input.partner },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await svc.temporal.schedule
      .getHandle(scheduleId)
      .update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
  }
  return { scheduleId, intervalMs: s.intervalMs };
}

/** The schedule's description, or null when the tenant has none for this partner. */
export async function describeReconciliationSchedule(
  temporal: Client,
  tenantId: string,
  partner: string,
): Promise<Awaited<ReturnType<ReturnType<Client['schedule']['getHandle']>['describe']>> | null> {
  try {
    return await temporal.schedule.getHandle(reconciliationScheduleId(tenantId, partner)).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}
