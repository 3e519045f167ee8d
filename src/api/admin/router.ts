import Router from '@koa/router';
import { AdminAction, AdminActionDecision, Card, TenantPolicy } from '../../db/models';
import { DomainError } from '../../domain/errors';
import { loadAction } from '../../admin-actions/actions';
import {
  approveAction,
  rejectAction,
  requestAdminIssuance,
  requestCardOverride,
  requestUserOverride,
  type RequestedAction,
} from '../../admin-actions/commands';
import { cardBalances } from '../../cards/balances';
import { changePolicy } from '../../policies/change';
import { currentPolicy } from '../../policies/current';
import { getCardQuery } from '../../workflows/messages';
import { cardResponse, findCard } from '../cards/router';
import { presentCard } from '../cards/presenters';
import { temporalUiLink, tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { newestFirst } from '../pagination';
import { bodyOf, pathId, queryOf } from '../validate';
import { presentAction, presentPolicy } from './presenters';
import {
  AdminIssueSchema,
  AdminListCardsQuery,
  CardActionSchema,
  DecisionSchema,
  ListActionsQuery,
  PolicyPatchSchema,
  UserActionSchema,
} from './schema';

const ctxOf = (ctx: unknown): AppContext => ctx as AppContext;

function futureExpiry(expiresAt: string | undefined): Date | null {
  if (!expiresAt) return null;
  const at = new Date(expiresAt);
  if (at.getTime() <= Date.now()) {
    throw new DomainError('VALIDATION_FAILED', 'expiresAt must be in the future', {
      fields: [{ path: 'expiresAt', message: 'must be in the future' }],
    });
  }
  return at;
}

/** Operator views and actions: policy, cards, overrides with maker-checker approval. */
export function adminRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();
  const operator = requireRole('operator');
  const approver = requireRole('approver');

  const presentAdminCard = async (card: Card) => ({
    ...presentCard(card, await cardBalances(knex, card)),
    partnerCardId: card.partnerCardId,
    workflowId: card.workflowId,
    temporalUiUrl: temporalUiLink(deps, card.workflowId),
    region: card.region,
    issuedBy: { type: card.issuedByType, id: card.issuedById },
    issueReason: card.issueReason,
    policyVersion: card.policyVersion,
    statusChangedAt: new Date(card.statusChangedAt).toISOString(),
  });

  const actionResponse = async (tenantId: string, id: string, extra: Record<string, unknown> = {}) => {
    const { action, decisions } = await loadAction(knex, tenantId, id);
    return presentAction(action, decisions, extra);
  };
  /** A requested action's answer: its state, and why it waits or (an issuance) the card it made. */
  const requestedResponse = async (tenantId: string, r: RequestedAction, issuance: boolean) =>
    actionResponse(tenantId, r.id, {
      ...(r.approvalReasons.length ? { approvalReasons: r.approvalReasons } : {}),
      ...(issuance ? { card: r.cardId ? await cardResponse(deps, tenantId, r.cardId) : null } : {}),
    });

  // ---- program policy --------------------------------------------------------------------------

  router.get('/admin/policy', operator, async (ctx) => {
    const tenantId = tenantOf(ctxOf(ctx));
    const { version } = await currentPolicy(knex, tenantId);
    const row = await TenantPolicy.query(knex).findById([tenantId, version]).throwIfNotFound();
    ctx.body = presentPolicy(row);
  });

  router.get('/admin/policy/versions/:version', operator, async (ctx) => {
    const version = Number(ctx.params.version);
    const row = Number.isSafeInteger(version)
      ? await TenantPolicy.query(knex).findById([tenantOf(ctxOf(ctx)), version])
      : undefined;
    if (!row) throw new DomainError('NOT_FOUND', 'policy version not found');
    ctx.body = presentPolicy(row);
  });

  /**
   * A policy change (see `changePolicy`): 200 with the new version when it only tightens; 202 with
   * a pending `change_policy` action when it loosens any control (a second principal approves it);
   * `partner` must name a registered partner.
   */
  router.patch('/admin/policy', operator, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const { reason, ...patch } = bodyOf(c, PolicyPatchSchema);
    const result = await changePolicy(
      {
        ...deps,
        reconciliation: {
          temporal: deps.temporal,
          taskQueue: deps.cards.taskQueue,
          settings: deps.config.reconciliation,
          log: ctx.state.log,
        },
      },
      {
        tenantId,
        patch,
        reason,
        by: { keyId: ctx.state.auth!.keyId, role: ctx.state.auth!.role },
      },
    );
    if (result.status === 'pending_approval') {
      // A loosening change: an action waiting for a second principal, written only once approved.
      ctx.status = 202;
      ctx.body = await actionResponse(tenantId, result.actionId, {
        approvalReasons: result.approvalReasons,
        changes: result.changes,
      });
      return;
    }
    const saved = await TenantPolicy.query(knex).findById([tenantId, result.version]).throwIfNotFound();
    ctx.body = presentPolicy(saved);
  });

  // ---- cards -------------------------------------------------------------------------------------
  router.get('/admin/cards', operator, async (ctx) => {
    const c = ctxOf(ctx);
    const q = queryOf(c, AdminListCardsQuery);
    const query = Card.query(knex).where({ tenantId: tenantOf(c) });
    if (q.userId) query.where({ userId: q.userId });
    if (q.status) query.where({ status: q.status });
    if (q.region)
      query.where((w) => w.where({ region: q.region }).orWhere('region', 'like', `${q.region}-%`));
    const { rows: page, nextCursor } = await newestFirst(query, q);
    ctx.body = {
      data: await Promise.all(page.map(presentAdminCard)),
      nextCursor,
    };
  });

  router.get('/admin/cards/:id', operator, async (ctx) => {
    const card = await findCard(deps, tenantOf(ctxOf(ctx)), pathId(ctxOf(ctx)));
    const snapshot = await deps.temporal.workflow
      .getHandle(card.workflowId)
      .query(getCardQuery)
      .catch(() => null);
    ctx.body = { ...(await presentAdminCard(card)), pendingOverrides: snapshot?.pendingOverrides ?? [] };
  });

  /**
   * Admin issuance: the same workflow path as the app's. Within policy it issues at once; beyond a
   * program cap or limit it is an override and waits for an approver.
   */
  router.post('/admin/cards', operator, idempotency(knex, { required: true }), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const { reason, ...request } = bodyOf(c, AdminIssueSchema);
    const requested = await requestAdminIssuance(deps, {
      tenantId,
      request,
      reason,
      requestedBy: ctx.state.auth!.keyId,
    });
    ctx.status = 201;
    ctx.body = await requestedResponse(tenantId, requested, true);
  });

  // ---- overrides ---------------------------------------------------------------------------------
  // An override request is recorded (append-only, with the subject's state before) and, unless it
  // needs an approver, applied at once; the answer is the action with its outcome.
  router.post('/admin/cards/:id/actions', operator, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const body = bodyOf(c, CardActionSchema);
    const requested = await requestCardOverride(deps, {
      tenantId,
      cardId: pathId(c),
      body,
      expiresAt: futureExpiry(body.expiresAt),
      requestedBy: ctx.state.auth!.keyId,
    });
    ctx.status = 201;
    ctx.body = await requestedResponse(tenantId, requested, false);
  });

  router.post('/admin/users/:id/actions', operator, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const body = bodyOf(c, UserActionSchema);
    const requested = await requestUserOverride(deps, {
      tenantId,
      userId: pathId(c),
      body,
      expiresAt: futureExpiry(body.expiresAt),
      requestedBy: ctx.state.auth!.keyId,
    });
    ctx.status = 201;
    ctx.body = await requestedResponse(tenantId, requested, false);
  });

  // ---- maker-checker -----------------------------------------------------------------------------
  router.get('/admin/actions', operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const q = queryOf(c, ListActionsQuery);
    const query = AdminAction.query(knex).where({ tenantId });
    if (q.status === 'pending_approval') {
      query
        .where({ requiresApproval: true })
        .whereNotExists(knex('admin_action_decisions as d').whereRaw('d.action_id = admin_actions.id'));
    }
    const { rows: page, nextCursor } = await newestFirst(query, q);
    const decisions = page.length
      ? await AdminActionDecision.query(knex)
          .where({ tenantId })
          .whereIn(
            'actionId',
            page.map((a) => a.id),
          )
          .orderBy('id')
      : [];
    let data = page.map((a) =>
      presentAction(
        a,
        decisions.filter((d) => d.actionId === a.id),
      ),
    );
    if (q.status && q.status !== 'pending_approval') data = data.filter((a) => a.status === q.status);
    ctx.body = {
      data,
      nextCursor,
    };
  });

  router.get('/admin/actions/:id', operator, async (ctx) => {
    ctx.body = await actionResponse(tenantOf(ctxOf(ctx)), pathId(ctxOf(ctx)));
  });

  router.post('/admin/actions/:id/approve', approver, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const { note } = bodyOf(c, DecisionSchema);
    const { action, cardId } = await approveAction(deps, {
      tenantId,
      actionId: pathId(c),
      by: ctx.state.auth!.keyId,
      note,
    });
    ctx.body = await actionResponse(
      tenantId,
      action.id,
      action.type === 'issue_card'
        ? { card: cardId ? await cardResponse(deps, tenantId, cardId) : null }
        : {},
    );
  });

  router.post('/admin/actions/:id/reject', approver, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const { note } = bodyOf(c, DecisionSchema);
    const action = await rejectAction(deps, {
      tenantId,
      actionId: pathId(c),
      by: ctx.state.auth!.keyId,
      note,
    });
    ctx.body = await actionResponse(tenantId, action.id);
  });

  return router;
}
