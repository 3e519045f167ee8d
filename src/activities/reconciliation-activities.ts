/**
 * Reconciliation activities: the run's books, staging the partner's listings page by page
 * (resuming from the last heartbeat after a retry), the set-based comparison, and healing through
 * the card workflows.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { recordDecision } from '../admin-actions/decisions';
import { recordAction } from '../admin-actions/requests';
import { healingEvents } from '../domain/reconciliation';
import { getPartner, type PartnerRegistry, type PartnerPage } from '../partners/adapter';
import type { Vault } from '../vault/vault';
import { openCredentials } from '../webhooks/subscriptions';
import { compareRun, healCandidates, type CompareInput, type CompareResult } from '../reconciliation/compare';
import { createStage, dropStage, dropStaleStages, stageCards, stageRecords } from '../reconciliation/stage';
import { signalCard, type CardWorkflowConfig } from '../temporal/card-client';
import type { ReconciliationProgress } from '../workflows/reconciliation-messages';

export interface ReconciliationDeps {
  knex: Knex;
  vault: Vault;
  /** The partners whose listings are read (each through the tenant's credentials with it). */
  partners: PartnerRegistry;
  temporal: Client;
  cards: CardWorkflowConfig;
}

export interface BeginRunInput {
  runId: string;
  tenantId: string;
  partner: string;
  trigger: 'schedule' | 'manual';
  workflowId: string;
  fromMs: number;
  toMs: number;
  cutoffMs: number;
  options: Record<string, unknown>;
}

export interface StagePagesInput {
  runId: string;
  tenantId: string;
  partner: string;
  kind: 'cards' | 'transactions';
  /** For transactions: the slice of the window this call reads. */
  fromMs?: number;
  toMs?: number;
  cursor: string | null;
  pageSize: number;
  /** Pages read before returning to the workflow (which then shows the progress). */
  maxPages: number;
}

export interface StagePagesResult {
  staged: number;
  pages: number;
  nextCursor: string | null;
}

/** How many discrepancies one run heals at most (the rest wait for the next run or an operator). */
export const HEAL_LIMIT = 500;

/**
 * Runs `fn`, heartbeating every few seconds meanwhile: the workflow's heartbeat timeout then
 * tells a worker that died from a long statement that is still going.
 */
async function whileHeartbeating<T>(fn: () => Promise<T>, everyMs = 5_000): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

export function createReconciliationActivities(deps: ReconciliationDeps) {
  const { knex } = deps;
  return {
    /** Creates the run's row (scheduled runs) or fixes its window and cutoff (manual runs). */
    async beginRun(input: BeginRunInput): Promise<{ fromMs: number; toMs: number; cutoffMs: number }> {
      await knex('reconciliation_runs')
        .insert({
          id: input.runId,
          tenantId: input.tenantId,
          partner: input.partner,
          windowFrom: new Date(input.fromMs),
          windowTo: new Date(input.toMs),
          trigger: input.trigger,
          workflowId: input.workflowId,
          status: 'running',
          cutoffAt: new Date(input.cutoffMs),
          options: input.options,
        })
        .onConflict('id')
        .ignore();
      const row = await knex('reconciliation_runs')
        .where({ id: input.runId, tenantId: input.tenantId })
        .first();
      if (!row) throw new Error(`reconciliation run ${input.runId} vanished`);
      if (!row.cutoffAt) {
        await knex('reconciliation_runs')
          .where({ id: input.runId, tenantId: input.tenantId })
          .update({ cutoffAt: new Date(input.cutoffMs), workflowId: input.workflowId });
        row.cutoffAt = new Date(input.cutoffMs);
      }
      await dropStaleStages(knex);
      await createStage(knex, input.runId);
      return {
        fromMs: new Date(row.windowFrom).getTime(),
        toMs: new Date(row.windowTo).getTime(),
        cutoffMs: new Date(row.cutoffAt).getTime(),
      };
    },

    /**
     * Reads up to `maxPages` pages of the partner's listing into the run's stage, fetching the next
     * page while the current one is written. After a retry it resumes at the last heartbeat's cursor.
     */
    async stagePages(input: StagePagesInput): Promise<StagePagesResult> {
      const ctx = Context.current();
      const partner = getPartner(deps.partners, input.partner);
      const credentials = await openCredentials(knex, deps.vault, input.tenantId, input.partner);
      const resumed = ctx.info.heartbeatDetails as StagePagesResult | undefined;
      // A retry after the last page was staged (the result was lost): that result again.
      if (resumed && resumed.nextCursor === null) return resumed;
      let cursor = resumed?.nextCursor ?? input.cursor;
      let staged = resumed?.staged ?? 0;
      let pages = resumed?.pages ?? 0;
      const fetchPage = (c: string | null): Promise<PartnerPage<unknown>> =>
        input.kind === 'cards'
          ? partner.listCards(credentials, { programId: input.tenantId, cursor: c, limit: input.pageSize })
          : partner.listTransactions(credentials, {
              programId: input.tenantId,
              from: new Date(input.fromMs!),
              to: new Date(input.toMs!),
              cursor: c,
              limit: input.pageSize,
            });
      let pending = fetchPage(cursor);
      for (;;) {
        const page = await pending;
        const more = page.nextCursor !== null && pages + 1 < input.maxPages;
        if (more) {
          pending = fetchPage(page.nextCursor);
          pending.catch(() => undefined); // surfaced when awaited
        }
        staged +=
          input.kind === 'cards'
            ? await stageCards(knex, input.runId, page.data as never)
            : await stageRecords(knex, input.runId, page.data as never);
        pages += 1;
        cursor = page.nextCursor;
        ctx.heartbeat({ staged, pages, nextCursor: cursor } satisfies StagePagesResult);
        if (!more) return { staged, pages, nextCursor: cursor };
      }
    },

    /** One SQL transaction, minutes on a large window: it heartbeats while it runs. */
    async compare(input: CompareInput): Promise<CompareResult> {
      return whileHeartbeating(() => compareRun(knex, input));
    },

    /**
     * Heals what is safe to heal: each discrepancy's events go to its card's workflow as a
     * reconciliation-sourced partner event (the path a webhook takes), then the discrepancy is
     * resolved `auto_healed` under an admin action naming the events. The discrepancy's row is
     * locked first and the resolution written in the same transaction, so an operator resolving it
     * at the same moment either comes first (and nothing is sent) or waits and is told it is
     * resolved. The events carry the partner's own ids: sent twice (a retry), or followed by the
     * late webhook, they apply once.
     */
    async heal(input: { runId: string; tenantId: string; partner: string }): Promise<{ healed: number }> {
      const ctx = Context.current();
      const candidates = await healCandidates(knex, { ...input, limit: HEAL_LIMIT });
      let healed = 0;
      for (const d of candidates) {
        const events = healingEvents(d, Date.now());
        if (!events || !d.cardId) continue;
        const cardId = d.cardId;
        const note = `healed by reconciliation run ${input.runId}: ${events.map((e) => e.kind).join(', ')} sent to the card`;
        await knex.transaction(async (trx) => {
          const claimed = await trx('discrepancies')
            .where({ id: d.id, tenantId: input.tenantId, status: 'open' })
            .forUpdate()
            .first('id');
          if (!claimed) return; // resolved meanwhile (an operator): leave it as they decided
          for (const event of events)
            await signalCard(deps.temporal, deps.cards, input.tenantId, cardId, {
              deliveryId: null,
              event,
              source: 'reconciliation',
            });
          await trx('discrepancies').where({ id: d.id, tenantId: input.tenantId }).update({
            status: 'resolved',
            resolution: 'auto_healed',
            resolutionNote: note,
            resolvedBy: 'system:reconciliation',
            resolvedAt: trx.fn.now(),
            updatedAt: trx.fn.now(),
          });
          const actionId = `act_${d.id.slice(4)}h`;
          await recordAction(trx, {
            id: actionId,
            tenantId: input.tenantId,
            subjectType: 'discrepancy',
            subjectId: d.id,
            type: 'resolve_discrepancy',
            params: {
              resolution: 'auto_healed',
              runId: input.runId,
              category: d.category,
              events: events.map((e) => ({ kind: e.kind, eventId: e.eventId })),
            },
            reason: note,
            requestedBy: 'system:reconciliation',
          });
          await recordDecision(trx, {
            tenantId: input.tenantId,
            actionId,
            decision: 'applied',
            decidedBy: 'system:reconciliation',
            note: 'events sent through the card workflow',
          });
          healed += 1;
        });
        ctx.heartbeat({ healed });
      }
      return { healed };
    },

    async finishRun(input: {
      runId: string;
      tenantId: string;
      status: 'completed' | 'failed';
      counts: Record<string, number>;
      progress: ReconciliationProgress;
      error?: string | null;
    }): Promise<void> {
      await knex('reconciliation_runs')
        .where({ id: input.runId, tenantId: input.tenantId })
        .update({
          status: input.status,
          counts: input.counts,
          progress: input.progress,
          error: input.error ?? null,
          finishedAt: knex.fn.now(),
        });
    },

    async dropStage(input: { runId: string }): Promise<void> {
      await dropStage(knex, input.runId);
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
