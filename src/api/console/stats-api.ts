/**
 * The console's charts: authorizations per hour by result, and the overview's figures. Mounted
 * with the console's other reads (each route authenticates itself).
 */
import Router from '@koa/router';
import { z } from 'zod';
import { findCard } from '../../cards/queries';
import { tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { authenticate, requireRole } from '../middleware/auth';
import { queryOf } from '../validate';
import { deliveriesByLatestOutcome } from '../../webhooks/outcomes';

const ctxOf = (ctx: unknown): AppContext => ctx as AppContext;

const StatsQuery = z.object({
  cardId: z.string().max(100).optional(),
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 14)
    .default(24),
});

export function consoleStatsRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();
  const authed = authenticate(knex);
  const operator = requireRole('operator');

  // ---- charts ------------------------------------------------------------------------------------
  /**
   * Authorizations per hour by result over the last `hours` (the card's, or the tenant's without
   * `cardId`), and the decline codes among them. An authorization is a transaction the card (or the
   * partner, for advice and stand-in) approved or declined; captures without one are not counted.
   */
  router.get('/admin/stats/authorizations', authed, operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const q = queryOf(c, StatsQuery);
    const card = q.cardId !== undefined ? await findCard(deps.knex, tenantId, q.cardId) : null;
    const hourMs = 3_600_000;
    const to = Math.floor(Date.now() / hourMs) * hourMs + hourMs;
    const from = to - q.hours * hourMs;
    const base = knex('transactions')
      .where({ tenantId })
      .where((w) => w.where({ status: 'declined' }).orWhere('authorizedAmount', '>', 0))
      .whereRaw('coalesce(authorized_at, created_at) >= ?', [new Date(from)]);
    if (card) base.where({ cardId: card.id });
    const [hourly, reasons] = await Promise.all([
      base
        .clone()
        .select(
          knex.raw(`floor(extract(epoch from coalesce(authorized_at, created_at)) / 3600)::bigint AS "hour"`),
          knex.raw(`count(*) FILTER (WHERE status <> 'declined')::int AS "approved"`),
          knex.raw(`count(*) FILTER (WHERE status = 'declined')::int AS "declined"`),
        )
        .groupBy('hour'),
      base
        .clone()
        .where({ status: 'declined' })
        .select(knex.raw(`coalesce(decline_code, 'UNKNOWN') AS "code"`), knex.raw('count(*)::int AS "count"'))
        .groupBy('code')
        .orderBy([{ column: 'count', order: 'desc' }, { column: 'code' }]),
    ]);
    const byHour = new Map(
      (hourly as Array<{ hour: string; approved: number; declined: number }>).map((r) => [
        Number(r.hour) * hourMs,
        r,
      ]),
    );
    const buckets = [];
    for (let at = from; at < to; at += hourMs) {
      const r = byHour.get(at);
      buckets.push({
        hour: new Date(at).toISOString(),
        approved: r?.approved ?? 0,
        declined: r?.declined ?? 0,
      });
    }
    ctx.body = {
      cardId: card?.id ?? null,
      hours: q.hours,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      buckets,
      totals: {
        approved: buckets.reduce((a, b) => a + b.approved, 0),
        declined: buckets.reduce((a, b) => a + b.declined, 0),
      },
      declineReasons: reasons as Array<{ code: string; count: number }>,
    };
  });

  /** The overview's figures: cards by status, the two queues, and deliveries of the last day. */
  router.get('/admin/stats/overview', authed, operator, async (ctx) => {
    const tenantId = tenantOf(ctxOf(ctx));
    const since = new Date(Date.now() - 24 * 3_600_000);
    const [cards, pending, open, deliveries] = await Promise.all([
      knex('cards')
        .where({ tenantId })
        .select('status')
        .count<{ status: string; count: string }[]>({ count: '*' })
        .groupBy('status'),
      knex('admin_actions as a')
        .where({ 'a.tenantId': tenantId, 'a.requiresApproval': true })
        .whereNotExists(
          knex('admin_action_decisions as d').whereRaw('d.tenant_id = a.tenant_id AND d.action_id = a.id'),
        )
        .count<{ count: string }[]>({ count: '*' }),
      knex('discrepancies').where({ tenantId, status: 'open' }).count<{ count: string }[]>({ count: '*' }),
      deliveriesByLatestOutcome(knex, tenantId, since),
    ]);
    ctx.body = {
      cardsByStatus: Object.fromEntries(cards.map((r) => [r.status, Number(r.count)])),
      pendingApprovals: Number(pending[0]?.count ?? 0),
      openDiscrepancies: Number(open[0]?.count ?? 0),
      deliveriesLastDay: deliveries,
    };
  });

  return router;
}
