/**
 * Reconciliation's activities run as a retried activity would run them (Temporal's mock activity
 * environment: heartbeat details of an earlier attempt, heartbeats observed), against the real
 * database and Temporal: a page read twice is staged once, a retry resumes at the last heartbeat's
 * cursor, and a heal waits on an operator's lock of the discrepancy and then leaves it as decided.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { cardWorkflowId } from '../src/domain/ids';
import { newId } from '../src/lib/ids';
import {
  createReconciliationActivities,
  type StagePagesInput,
  type StagePagesResult,
} from '../src/activities/reconciliation-activities';
import type { PartnerAdapter, PartnerTransactionRecord } from '../src/partners/adapter';
import { createPartnerRegistry } from '../src/partners/registry';
import { createStage, dropStage, stageTables } from '../src/reconciliation/stage';
import { getCardQuery } from '../src/workflows/messages';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';
import { eventually } from './helpers/wait';

const h = useHarness();
let t: TestTenant;

beforeAll(async () => {
  t = await newTenant(h);
});

const record = (n: number): PartnerTransactionRecord => ({
  recordId: `rec_${n}`,
  partnerCardId: 'sbc_x',
  partnerTransactionId: `ptx_${n}`,
  type: 'clearing',
  amount: 100 + n,
  currency: 'USD',
  approved: null,
  eventId: null,
  occurredAt: new Date(Date.UTC(2026, 10, 20, 12, n)).toISOString(),
});

/** A partner listing three pages of two records (cursors null → p2 → p3), noting each cursor asked for. */
function pagedPartner() {
  const pages: Record<string, { data: PartnerTransactionRecord[]; nextCursor: string | null }> = {
    start: { data: [record(1), record(2)], nextCursor: 'p2' },
    p2: { data: [record(3), record(4)], nextCursor: 'p3' },
    p3: { data: [record(5), record(6)], nextCursor: null },
  };
  const asked: Array<string | null> = [];
  const real = createPartnerRegistry({ knex: h.knex, vault: h.vault, publicUrl: () => h.baseUrl }).sandbox!;
  const adapter = Object.assign(Object.create(real) as PartnerAdapter, {
    listTransactions: async (_c: unknown, q: { cursor: string | null }) => {
      asked.push(q.cursor);
      return pages[q.cursor ?? 'start']!;
    },
  });
  return { partners: { sandbox: adapter }, asked };
}

function activitiesWith(partners: Record<string, PartnerAdapter>) {
  return createReconciliationActivities({
    knex: h.knex,
    vault: h.vault,
    partners,
    temporal: h.temporal,
    cards: { taskQueue: h.taskQueue },
  });
}

async function withStage(fn: (runId: string, input: StagePagesInput) => Promise<void>): Promise<void> {
  const runId = newId('reconciliation');
  await createStage(h.knex, runId);
  try {
    await fn(runId, {
      runId,
      tenantId: t.id,
      partner: 'sandbox',
      kind: 'transactions',
      fromMs: Date.UTC(2026, 10, 20),
      toMs: Date.UTC(2026, 10, 21),
      cursor: null,
      pageSize: 2,
      maxPages: 10,
    });
  } finally {
    await dropStage(h.knex, runId);
  }
}

const stagedIds = async (runId: string) =>
  (await h.knex(stageTables(runId).records).orderBy('record_id').pluck('record_id')) as string[];

describe('staging the partner’s pages', () => {
  it('stages a page read twice once: a retry from the start inserts nothing again', async () => {
    await withStage(async (runId, input) => {
      const { partners } = pagedPartner();
      const a = activitiesWith(partners);
      const first = await new MockActivityEnvironment().run(a.stagePages, input);
      expect(first).toEqual({ staged: 6, pages: 3, nextCursor: null });
      // The attempt's result was lost before any heartbeat: the retry reads every page again.
      const again = await new MockActivityEnvironment().run(a.stagePages, input);
      expect(again).toEqual({ staged: 0, pages: 3, nextCursor: null });
      expect(await stagedIds(runId)).toEqual(['rec_1', 'rec_2', 'rec_3', 'rec_4', 'rec_5', 'rec_6']);
    });
  });

  it('resumes a retried attempt at the last heartbeat’s cursor, counting on from it', async () => {
    await withStage(async (runId, input) => {
      const { partners, asked } = pagedPartner();
      const a = activitiesWith(partners);
      // The first attempt staged page one, heartbeat its cursor, then died.
      const firstAttempt = new MockActivityEnvironment();
      const beats: StagePagesResult[] = [];
      firstAttempt.on('heartbeat', (d: StagePagesResult) => beats.push(d));
      await firstAttempt.run(a.stagePages, { ...input, maxPages: 1 });
      expect(beats).toEqual([{ staged: 2, pages: 1, nextCursor: 'p2' }]);
      asked.length = 0;

      const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: beats.at(-1) });
      const result = await retry.run(a.stagePages, input);
      expect(asked).toEqual(['p2', 'p3']);
      expect(result).toEqual({ staged: 6, pages: 3, nextCursor: null });
      expect(await stagedIds(runId)).toEqual(['rec_1', 'rec_2', 'rec_3', 'rec_4', 'rec_5', 'rec_6']);

      // A retry after the last page was staged (its result lost): that result, nothing read.
      asked.length = 0;
      const done = new MockActivityEnvironment({ attempt: 3, heartbeatDetails: result });
      expect(await done.run(a.stagePages, input)).toEqual(result);
      expect(asked).toEqual([]);
    });
  });
});

describe('healing against an operator’s resolution', () => {
  it('waits on the operator’s lock of the discrepancy, then sends nothing and leaves it as decided', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const runId = newId('reconciliation');
    await h.knex('reconciliation_runs').insert({
      id: runId,
      tenantId: t.id,
      partner: 'sandbox',
      windowFrom: new Date(Date.now() - 3_600_000),
      windowTo: new Date(),
      trigger: 'manual',
      workflowId: `recon-test-${runId}`,
    });
    const discrepancyId = newId('discrepancy');
    await h.knex('discrepancies').insert({
      id: discrepancyId,
      tenantId: t.id,
      runId,
      lastSeenRunId: runId,
      partner: 'sandbox',
      category: 'card_status_mismatch',
      fingerprint: `card_status_mismatch:${card.partnerCardId}:${discrepancyId}`,
      cardId: card.id,
      partnerCardId: card.partnerCardId,
      internalValue: JSON.stringify({ status: 'active' }),
      partnerValue: JSON.stringify({ status: 'frozen' }),
    });
    const a = activitiesWith(
      createPartnerRegistry({ knex: h.knex, vault: h.vault, publicUrl: () => h.baseUrl }),
    );

    // The operator's transaction holds the row (as resolveDiscrepancy's FOR UPDATE does) ...
    const operator = await h.knex.transaction();
    let healed: Promise<{ healed: number }> | undefined;
    try {
      await operator('discrepancies').where({ id: discrepancyId }).forUpdate().first();
      healed = new MockActivityEnvironment().run(a.heal, { runId, tenantId: t.id, partner: 'sandbox' });
      // ... and the heal is seen waiting for it, on a lock, in PostgreSQL.
      await eventually(async () => {
        const { rows } = await h.knex.raw(
          `SELECT 1 FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query ILIKE '%discrepancies%for update%'`,
        );
        return rows.length > 0;
      });
      await operator('discrepancies').where({ id: discrepancyId }).update({
        status: 'resolved',
        resolution: 'manual_adjustment',
        resolvedBy: 'op_test',
        resolvedAt: new Date(),
      });
      await operator.commit();
    } catch (err) {
      await operator.rollback();
      throw err;
    }

    expect(await healed).toEqual({ healed: 0 });
    expect(await h.knex('discrepancies').where({ id: discrepancyId }).first()).toMatchObject({
      status: 'resolved',
      resolution: 'manual_adjustment',
      resolvedBy: 'op_test',
    });
    // Nothing reached the card: no reconciliation signal in its history, and it is still active.
    const handle = h.temporal.workflow.getHandle(cardWorkflowId(t.id, card.id));
    const signals = ((await handle.fetchHistory()).events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes,
    );
    expect(signals).toHaveLength(0);
    expect((await handle.query(getCardQuery)).status).toBe('active');
    expect(await h.knex('admin_actions').where({ tenantId: t.id, subjectId: discrepancyId })).toHaveLength(0);

    // Without the operator, the same heal sends the partner's status and resolves it auto_healed.
    const open = newId('discrepancy');
    await h.knex('discrepancies').insert({
      id: open,
      tenantId: t.id,
      runId,
      lastSeenRunId: runId,
      partner: 'sandbox',
      category: 'card_status_mismatch',
      fingerprint: `card_status_mismatch:${card.partnerCardId}:${open}`,
      cardId: card.id,
      partnerCardId: card.partnerCardId,
      internalValue: JSON.stringify({ status: 'active' }),
      partnerValue: JSON.stringify({ status: 'frozen' }),
    });
    expect(
      await new MockActivityEnvironment().run(a.heal, { runId, tenantId: t.id, partner: 'sandbox' }),
    ).toEqual({
      healed: 1,
    });
    await eventually(async () => (await handle.query(getCardQuery)).status === 'frozen');
    expect(await h.knex('discrepancies').where({ id: open }).first()).toMatchObject({
      resolution: 'auto_healed',
    });
  });
});
