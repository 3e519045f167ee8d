import Router from '@koa/router';
import { DomainError } from '../../domain/errors';
import { findCard } from '../cards/router';
import { temporalUiLink, tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { PaginationSchema } from '../schemas';
import { pathId, queryOf } from '../validate';
import { latestOutcome } from '../../webhooks/outcomes';
import { presentPayload } from './webhooks';

type Kind = 'webhook' | 'transaction_event' | 'state_transition' | 'admin_action' | 'discrepancy';

const cursorOf = (at: Date, kind: string, ref: string): string =>
  Buffer.from(JSON.stringify([at.toISOString(), kind, ref])).toString('base64url');
function parseCursor(c: string): [Date, string, string] | null {
  try {
    const [at, kind, ref] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as [
      string,
      string,
      string,
    ];
    const d = new Date(at);
    return Number.isNaN(d.getTime()) || typeof kind !== 'string' || typeof ref !== 'string'
      ? null
      : [d, kind, ref];
  } catch {
    return null;
  }
}

/**
 * A card's whole story in time order: every partner delivery about it (payload with card numbers
 * masked) with its outcomes, every transaction event, state transition and admin action.
 */
export function timelineRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();

  router.get('/admin/cards/:id/timeline', requireRole('operator'), async (ctx) => {
    const c = ctx as AppContext;
    const tenantId = tenantOf(c);
    const card = await findCard(deps, tenantId, pathId(c));
    const q = queryOf(c, PaginationSchema);
    const after = q.cursor ? parseCursor(q.cursor) : null;
    if (q.cursor && !after)
      throw new DomainError('VALIDATION_FAILED', 'invalid cursor', {
        fields: [{ path: 'cursor', message: 'invalid' }],
      });
    const b = { t: tenantId, c: card.id };
    const { rows } = await knex.raw(
      `SELECT * FROM (
         SELECT d.received_at AS at, 'webhook' AS kind, d.id AS ref
           FROM webhook_deliveries d
          WHERE d.tenant_id = :t AND (EXISTS (SELECT 1 FROM webhook_outcomes o WHERE o.tenant_id = d.tenant_id AND o.delivery_id = d.id AND o.card_id = :c)
                 OR EXISTS (SELECT 1 FROM webhook_handoffs h WHERE h.tenant_id = d.tenant_id AND h.delivery_id = d.id AND h.card_id = :c))
         UNION ALL
         SELECT created_at, 'transaction_event', id::text FROM transaction_events WHERE tenant_id = :t AND card_id = :c
         UNION ALL
         SELECT created_at, 'state_transition', id::text FROM card_events WHERE tenant_id = :t AND card_id = :c
         UNION ALL
         SELECT created_at, 'admin_action', id FROM admin_actions WHERE tenant_id = :t AND subject_type = 'card' AND subject_id = :c
         UNION ALL
         SELECT a.created_at, 'admin_action', a.id FROM admin_actions a
           JOIN discrepancies x ON x.tenant_id = a.tenant_id AND x.id = a.subject_id
          WHERE a.tenant_id = :t AND a.subject_type = 'discrepancy' AND x.card_id = :c
         UNION ALL
         SELECT created_at, 'discrepancy', id FROM discrepancies WHERE tenant_id = :t AND card_id = :c
       ) items
       ${after ? 'WHERE (at, kind, ref) > (:at, :kind, :ref)' : ''}
       ORDER BY at, kind, ref
       LIMIT :limit`,
      { ...b, limit: q.limit + 1, ...(after ? { at: after[0], kind: after[1], ref: after[2] } : {}) },
    );
    const page = (rows as Array<{ at: Date; kind: Kind; ref: string }>).slice(0, q.limit);
    const ids = (k: Kind) => page.filter((r) => r.kind === k).map((r) => r.ref);
    const [deliveries, outcomes, txEvents, cardEvents, actions, decisions, discrepancies] = await Promise.all(
      [
        knex('webhook_deliveries').where({ tenantId }).whereIn('id', ids('webhook')),
        knex('webhook_outcomes').where({ tenantId }).whereIn('deliveryId', ids('webhook')).orderBy('id'),
        knex('transaction_events').where({ tenantId }).whereIn('id', ids('transaction_event')),
        knex('card_events').where({ tenantId }).whereIn('id', ids('state_transition')),
        knex('admin_actions').where({ tenantId }).whereIn('id', ids('admin_action')),
        knex('admin_action_decisions')
          .where({ tenantId })
          .whereIn('actionId', ids('admin_action'))
          .orderBy('id'),
        knex('discrepancies').where({ tenantId }).whereIn('id', ids('discrepancy')),
      ],
    );
    const byId = <T extends { id: string | number }>(list: T[]) =>
      new Map(list.map((x) => [String(x.id), x]));
    const [dMap, tMap, eMap, aMap, xMap] = [
      byId(deliveries),
      byId(txEvents),
      byId(cardEvents),
      byId(actions),
      byId(discrepancies),
    ];
    const data = page.map((r) => {
      const at = new Date(r.at).toISOString();
      switch (r.kind) {
        case 'webhook': {
          const d = dMap.get(r.ref)!;
          const os = outcomes.filter((o) => o.deliveryId === r.ref);
          return {
            type: r.kind,
            at,
            id: r.ref,
            partner: d.partner,
            outcome: latestOutcome(os)?.outcome ?? null,
            outcomes: os.map((o) => ({
              outcome: o.outcome,
              eventType: o.eventType,
              error: o.error,
              details: o.details,
              at: new Date(o.createdAt).toISOString(),
            })),
            payload: presentPayload(d.rawBody),
          };
        }
        case 'transaction_event': {
          const e = tMap.get(r.ref)!;
          return {
            type: r.kind,
            at,
            id: r.ref,
            eventType: e.type,
            source: e.source,
            amount: e.amount,
            currency: e.currency,
            partnerTransactionId: e.partnerTransactionId,
            deliveryId: e.deliveryId,
            occurredAt: new Date(e.occurredAt).toISOString(),
            decision: e.data?.decision ?? null,
          };
        }
        case 'state_transition': {
          const e = eMap.get(r.ref)!;
          return {
            type: r.kind,
            at,
            id: r.ref,
            from: e.fromStatus,
            to: e.toStatus,
            actor: { type: e.actorType, id: e.actorId },
            source: String(e.actorId).startsWith('reconciliation:') ? 'reconciliation' : e.actorType,
            cause: e.cause,
            reason: e.reason,
          };
        }
        case 'discrepancy': {
          const x = xMap.get(r.ref)!;
          return {
            type: r.kind,
            at,
            id: r.ref,
            source: 'reconciliation',
            category: x.category,
            status: x.status,
            partnerTransactionId: x.partnerTransactionId,
            internalValue: x.internalValue,
            partnerValue: x.partnerValue,
            runId: x.runId,
            lastSeenRunId: x.lastSeenRunId,
            resolution: x.resolution,
            resolvedBy: x.resolvedBy,
            resolvedAt: x.resolvedAt ? new Date(x.resolvedAt).toISOString() : null,
          };
        }
        case 'admin_action': {
          const a = aMap.get(r.ref)!;
          return {
            type: r.kind,
            at,
            id: r.ref,
            action: a.type,
            reason: a.reason,
            requestedBy: a.requestedBy,
            params: a.params,
            decisions: decisions
              .filter((x) => x.actionId === r.ref)
              .map((x) => ({
                decision: x.decision,
                by: x.decidedBy,
                at: new Date(x.createdAt).toISOString(),
              })),
          };
        }
      }
    });
    const last = page[page.length - 1];
    ctx.body = {
      card: { id: card.id, status: card.status, workflowId: card.workflowId },
      temporalUiUrl: temporalUiLink(deps, card.workflowId),
      data,
      nextCursor: rows.length > q.limit && last ? cursorOf(new Date(last.at), last.kind, last.ref) : null,
    };
  });
  return router;
}
