import Router from '@koa/router';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Discrepancy, ReconciliationRun } from '../../db/models';
import { DomainError } from '../../domain/errors';
import { DISCREPANCY_CATEGORIES, OPERATOR_RESOLUTIONS } from '../../domain/reconciliation';
import { hasPartner, type PartnerRegistry } from '../../partners/adapter';
import { resolveDiscrepancy } from '../../reconciliation/resolve';
import { startReconciliation } from '../../reconciliation/runs';
import { progressQuery, type ReconciliationProgress } from '../../workflows/reconciliation-messages';
import { temporalUiLink, tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { newestFirst } from '../pagination';
import { decodeCursor, encodeCursor, IsoDateTime, PaginationSchema } from '../schemas';
import { bodyOf, pathId, queryOf } from '../validate';

/** How far a caller's clock may run ahead of ours before a window's end counts as the future. */
const CLOCK_SKEW_MS = 60_000;
/** Discrepancies a run's detail lists; the rest are on `GET /admin/discrepancies?runId=`. */
const RUN_DETAIL_DISCREPANCIES = 200;

/** A run's request; `partner` must be one whose listings the registry can read. */
const startBody = (partners: PartnerRegistry) =>
  z
    .strictObject({
      partner: z.string().refine((p) => hasPartner(partners, p), 'a registered partner'),
      from: IsoDateTime.optional(),
      to: IsoDateTime.optional(),
      /** false: find and record only (a dry run); default: the platform's setting. */
      autoHeal: z.boolean().optional(),
      /** Compare even changes younger than this (ms; default: the platform's setting). */
      settleMs: z.number().int().min(0).max(86_400_000).optional(),
    })
    .refine((b) => !b.from || !b.to || Date.parse(b.from) < Date.parse(b.to), {
      message: 'from must be before to',
      path: ['from'],
    });

const ResolveBody = z.strictObject({
  resolution: z.enum(OPERATOR_RESOLUTIONS as [string, ...string[]]),
  note: z.string().trim().min(1).max(2000),
});

const ListDiscrepanciesQuery = PaginationSchema.extend({
  status: z.enum(['open', 'resolved']).optional(),
  category: z.enum(DISCREPANCY_CATEGORIES).optional(),
  partner: z.string().max(50).optional(),
  cardId: z.string().max(100).optional(),
  runId: z.string().max(100).optional(),
});

const ListRunsQuery = PaginationSchema.extend({ partner: z.string().max(50).optional() });

export function presentDiscrepancy(d: Discrepancy) {
  return {
    id: d.id,
    partner: d.partner,
    category: d.category,
    fingerprint: d.fingerprint,
    status: d.status,
    cardId: d.cardId,
    transactionId: d.transactionId,
    partnerCardId: d.partnerCardId,
    partnerTransactionId: d.partnerTransactionId,
    internalValue: d.internalValue,
    partnerValue: d.partnerValue,
    evidence: d.evidence,
    firstRunId: d.runId,
    lastSeenRunId: d.lastSeenRunId,
    resolution: d.resolution,
    resolutionNote: d.resolutionNote,
    resolvedBy: d.resolvedBy,
    resolvedAt: d.resolvedAt ? new Date(d.resolvedAt).toISOString() : null,
    createdAt: new Date(d.createdAt).toISOString(),
    updatedAt: new Date(d.updatedAt).toISOString(),
  };
}

/**
 * Reconciliation for operators: start a run, follow it (progress from the workflow while it runs),
 * list discrepancies and resolve them under audit.
 */
export function reconciliationRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();
  const operator = requireRole('operator');
  const StartBody = startBody(deps.partners);
  const svc = {
    knex,
    temporal: deps.temporal,
    taskQueue: deps.cards.taskQueue,
    settings: deps.config.reconciliation,
  };

  const progressOf = async (run: ReconciliationRun): Promise<ReconciliationProgress | null> => {
    if (run.status !== 'running') return run.progress as unknown as ReconciliationProgress;
    try {
      return await deps.temporal.workflow.getHandle(run.workflowId).query(progressQuery);
    } catch (err) {
      // Not started yet by the schedule's first task, or the server is away: the stored figures.
      if (!(err instanceof WorkflowNotFoundError))
        deps.logger.warn({ err: String(err), runId: run.id }, 'progress query failed');
      return (run.progress as unknown as ReconciliationProgress) ?? null;
    }
  };

  const presentRun = async (run: ReconciliationRun, withDiscrepancies: boolean) => {
    const progress = await progressOf(run);
    const counts = run.status === 'running' ? (progress?.counts ?? {}) : run.counts;
    const body: Record<string, unknown> = {
      id: run.id,
      partner: run.partner,
      trigger: run.trigger,
      status: run.status,
      window: { from: new Date(run.windowFrom).toISOString(), to: new Date(run.windowTo).toISOString() },
      progress,
      counts,
      total: Object.values(counts ?? {}).reduce((a: number, b) => a + Number(b), 0),
      error: run.error,
      startedAt: new Date(run.startedAt).toISOString(),
      finishedAt: run.finishedAt ? new Date(run.finishedAt).toISOString() : null,
      workflowId: run.workflowId,
      temporalUiUrl: temporalUiLink(deps, run.workflowId),
    };
    if (withDiscrepancies) {
      const found = await Discrepancy.query(knex)
        .where({ tenantId: run.tenantId, lastSeenRunId: run.id })
        .orderBy([{ column: 'category' }, { column: 'id' }])
        .limit(RUN_DETAIL_DISCREPANCIES + 1);
      body.discrepancies = found.slice(0, RUN_DETAIL_DISCREPANCIES).map(presentDiscrepancy);
      // Every one of them, page by page (a run that found thousands lists only the first here).
      body.moreDiscrepancies = found.length > RUN_DETAIL_DISCREPANCIES;
      body.discrepanciesUrl = `/admin/discrepancies?runId=${run.id}`;
    }
    return body;
  };

  router.post('/admin/reconciliations', operator, idempotency(knex), async (ctx) => {
    const c = ctx as AppContext;
    const b = bodyOf(c, StartBody);
    // A window must lie in the past: the partner's records of the future do not exist yet, and a
    // run cut off there would judge changes whose webhooks are still on their way.
    const now = Date.now();
    const field = (path: string, message: string) =>
      new DomainError('VALIDATION_FAILED', `${path} ${message}`, { fields: [{ path, message }] });
    if (b.to && Date.parse(b.to) > now + CLOCK_SKEW_MS) throw field('to', 'must not be in the future');
    if (b.from && !b.to && Date.parse(b.from) >= now) throw field('from', 'must be in the past');
    const run = await startReconciliation(svc, {
      tenantId: tenantOf(c),
      partner: b.partner,
      from: b.from ? new Date(b.from) : undefined,
      to: b.to ? new Date(b.to) : undefined,
      requestedBy: c.state.auth!.keyId,
      autoHeal: b.autoHeal,
      settleMs: b.settleMs,
    });
    ctx.status = 202;
    ctx.body = {
      id: run.id,
      status: 'running',
      partner: b.partner,
      window: { from: run.windowFrom.toISOString(), to: run.windowTo.toISOString() },
      workflowId: run.workflowId,
      temporalUiUrl: temporalUiLink(deps, run.workflowId),
    };
  });

  router.get('/admin/reconciliations', operator, async (ctx) => {
    const c = ctx as AppContext;
    const q = queryOf(c, ListRunsQuery);
    const query = ReconciliationRun.query(knex).where({ tenantId: tenantOf(c) });
    if (q.partner) query.where({ partner: q.partner });
    // Runs order by when they started.
    if (q.cursor) {
      const after = decodeCursor(q.cursor);
      if (!after)
        throw new DomainError('VALIDATION_FAILED', 'invalid cursor', {
          fields: [{ path: 'cursor', message: 'invalid' }],
        });
      query.whereRaw('(started_at, id) < (?, ?)', [after.createdAt, after.id]);
    }
    const rows = await query
      .orderBy([
        { column: 'startedAt', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    ctx.body = {
      data: await Promise.all(page.map((r) => presentRun(r, false))),
      nextCursor: rows.length > q.limit && last ? encodeCursor(new Date(last.startedAt), last.id) : null,
    };
  });

  router.get('/admin/reconciliations/:id', operator, async (ctx) => {
    const c = ctx as AppContext;
    const run = await ReconciliationRun.query(knex)
      .where({ tenantId: tenantOf(c), id: pathId(c) })
      .first();
    if (!run) throw new DomainError('NOT_FOUND', 'reconciliation run not found');
    ctx.body = await presentRun(run, true);
  });

  router.get('/admin/discrepancies', operator, async (ctx) => {
    const c = ctx as AppContext;
    const q = queryOf(c, ListDiscrepanciesQuery);
    const query = Discrepancy.query(knex).where({ tenantId: tenantOf(c) });
    if (q.status) query.where({ status: q.status });
    if (q.category) query.where({ category: q.category });
    if (q.partner) query.where({ partner: q.partner });
    if (q.cardId) query.where({ cardId: q.cardId });
    if (q.runId) query.where({ lastSeenRunId: q.runId });
    const { rows, nextCursor } = await newestFirst(query, q);
    ctx.body = { data: rows.map(presentDiscrepancy), nextCursor };
  });

  router.get('/admin/discrepancies/:id', operator, async (ctx) => {
    const c = ctx as AppContext;
    const d = await Discrepancy.query(knex)
      .where({ tenantId: tenantOf(c), id: pathId(c) })
      .first();
    if (!d) throw new DomainError('NOT_FOUND', 'discrepancy not found');
    ctx.body = presentDiscrepancy(d);
  });

  router.post('/admin/discrepancies/:id/resolve', operator, idempotency(knex), async (ctx) => {
    const c = ctx as AppContext;
    const tenantId = tenantOf(c);
    const id = pathId(c);
    const b = bodyOf(c, ResolveBody);
    const result = await resolveDiscrepancy(knex, {
      tenantId,
      id,
      resolution: b.resolution,
      note: b.note,
      by: c.state.auth!.keyId,
    });
    ctx.body = { ...presentDiscrepancy(result.discrepancy), actionId: result.actionId };
  });

  return router;
}
