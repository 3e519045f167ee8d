import Router from '@koa/router';
import { AdminAction, AdminActionDecision, Card, TenantPolicy } from '../../db/models';
import { checkIssuance, resolveControls, type IssuanceCheckInput } from '../../domain/policy';
import { DomainError } from '../../domain/errors';
import { approvalRequirement, type ActionType } from '../../domain/overrides';
import { windowStart } from '../../domain/time-windows';
import { newId } from '../../lib/ids';
import { cardBalances } from '../../cards/balances';
import { currentPolicy } from '../../policies/current';
import { decide, loadAction, presentAction } from '../../admin-actions/actions';
import { getCardQuery } from '../../workflows/messages';
import { findCard } from '../cards/router';
import { presentCard } from '../cards/presenters';
import { temporalUiLink, tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { newestFirst } from '../pagination';
import { bodyOf, pathId, queryOf } from '../validate';
import { applyAction } from '../../admin-actions/apply';
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

  // ---- program policy --------------------------------------------------------------------------
  const presentPolicy = (p: TenantPolicy) => ({
    version: p.version,
    policy: p.policy,
    createdBy: p.createdBy,
    reason: p.reason,
    createdAt: new Date(p.createdAt).toISOString(),
  });

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
   * A new policy version (the old ones stay, so any decision can be explained by the version in
   * force). Raising a money limit above the approval threshold needs an approver key.
   */
  router.patch('/admin/policy', operator, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const { reason, ...patch } = bodyOf(c, PolicyPatchSchema);
    if (Object.keys(patch).length === 0) throw new DomainError('VALIDATION_FAILED', 'nothing to change');
    const saved = await knex.transaction(async (trx) => {
      await trx('tenants').where({ id: tenantId }).forUpdate().first();
      const { version, policy } = await currentPolicy(trx, tenantId);
      const raised = (
        ['maxCardSpendLimit', 'weeklySpendLimitPerUser', 'overrideApprovalThreshold'] as const
      ).filter((k) => {
        const next = patch[k];
        if (next === undefined) return false;
        const prev = policy[k];
        const raising = next === null ? prev !== null : prev !== null && next > prev;
        return raising && (next === null || next > policy.overrideApprovalThreshold);
      });
      if (raised.length && ctx.state.auth!.role !== 'approver') {
        throw new DomainError(
          'APPROVER_REQUIRED',
          `raising ${raised.join(', ')} above the approval threshold needs an approver key`,
          { raised },
        );
      }
      const next = { ...policy, ...patch };
      await trx('tenant_policies').insert({
        tenantId,
        version: version + 1,
        policy: JSON.stringify(next),
        createdBy: ctx.state.auth!.keyId,
        reason: reason ?? null,
      });
      await trx('tenants')
        .where({ id: tenantId })
        .update({ policyVersion: version + 1, updatedAt: trx.fn.now() });
      return TenantPolicy.query(trx)
        .findById([tenantId, version + 1])
        .throwIfNotFound();
    });
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
    const user = await knex('users').where({ tenantId, id: request.userId }).first();
    if (!user) throw new DomainError('NOT_FOUND', 'user not found');
    const { policy } = await currentPolicy(knex, tenantId);
    const nowMs = Date.now();
    const weekStart = windowStart(nowMs, 'weekly', policy.timeZone, policy.weekStartsOn)!;
    const [{ count }] = await knex('cards')
      .where({ tenantId, userId: user.id })
      .where('createdAt', '>=', new Date(weekStart))
      .whereNot((q) => q.where('status', 'canceled').whereNull('partnerCardId'))
      .count<{ count: number }[]>({ count: '*' });
    const overrides: NonNullable<IssuanceCheckInput['overrides']> = {
      ignoreWeeklyCardLimit: user.weeklyCardLimitLifted,
    };
    const beyond: string[] = [];
    const overridable = {
      USER_WEEKLY_CARD_LIMIT_REACHED: 'ignoreWeeklyCardLimit',
      SPEND_LIMIT_ABOVE_PROGRAM_MAX: 'ignoreSpendLimitMax',
      REGION_NOT_ALLOWED: 'ignoreProgramRegions',
    } as const;
    for (;;) {
      const refusal = checkIssuance({
        policy,
        user,
        controls: resolveControls(request.controls, policy),
        expiresAtMs: request.expiresAt ? Date.parse(request.expiresAt) : nowMs + 365 * 86_400_000,
        nowMs,
        cardsIssuedThisWeek: Number(count),
        overrides,
      });
      if (!refusal) break;
      const flag = overridable[refusal.code as keyof typeof overridable];
      // The user's own region is never overridable: only the card's allowed regions are.
      if (
        !flag ||
        overrides[flag] ||
        (refusal.code === 'REGION_NOT_ALLOWED' && refusal.details?.userRegion)
      ) {
        throw new DomainError(refusal.code, refusal.message, refusal.details);
      }
      overrides[flag] = true;
      beyond.push(refusal.message);
    }
    const requirement = approvalRequirement({ type: 'issue_card', params: {} }, policy, {
      beyondProgramCaps: beyond,
    });
    const id = newId('adminAction');
    await knex('admin_actions').insert({
      id,
      tenantId,
      subjectType: 'user',
      subjectId: user.id,
      type: 'issue_card',
      params: JSON.stringify({ request, overrides, beyondProgramCaps: beyond }),
      reason,
      requestedBy: ctx.state.auth!.keyId,
      requiresApproval: requirement.required,
    });
    ctx.status = 201;
    if (requirement.required) {
      ctx.body = await actionResponse(tenantId, id, { approvalReasons: requirement.reasons, card: null });
      return;
    }
    const action = await AdminAction.query(knex).findById(id).throwIfNotFound();
    const result = await applyAction(deps, action);
    ctx.body = await actionResponse(tenantId, id, { card: result.card });
  });

  // ---- overrides ---------------------------------------------------------------------------------
  /**
   * Records an override request (append-only, with the subject's state before) and, unless it
   * needs an approver, applies it at once; the answer is the action with its outcome.
   */
  const requestOverride = async (
    ctx: AppContext,
    tenantId: string,
    subject: { type: 'card' | 'user'; id: string; before: Record<string, unknown> },
    body: { type: ActionType; params: Record<string, unknown>; reason: string },
    expiresAt: Date | null,
  ) => {
    const { policy } = await currentPolicy(knex, tenantId);
    const requirement = approvalRequirement({ type: body.type, params: body.params }, policy);
    const id = newId('adminAction');
    await knex('admin_actions').insert({
      id,
      tenantId,
      subjectType: subject.type,
      subjectId: subject.id,
      type: body.type,
      params: JSON.stringify(body.params),
      reason: body.reason,
      expiresAt,
      requestedBy: ctx.state.auth!.keyId,
      requiresApproval: requirement.required,
      before: JSON.stringify(subject.before),
    });
    ctx.status = 201;
    if (!requirement.required)
      await applyAction(deps, await AdminAction.query(knex).findById(id).throwIfNotFound());
    ctx.body = await actionResponse(
      tenantId,
      id,
      requirement.required ? { approvalReasons: requirement.reasons } : {},
    );
  };

  router.post('/admin/cards/:id/actions', operator, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const body = bodyOf(c, CardActionSchema);
    const expiresAt = futureExpiry(body.expiresAt);
    if (expiresAt && body.type === 'cancel')
      throw new DomainError('OVERRIDE_NOT_REVERSIBLE', 'a cancellation cannot expire');
    const card = await findCard(deps, tenantId, pathId(c));
    const before = {
      status: card.status,
      frozenBy: card.frozenBy,
      controls: card.controls,
      expiresAt: card.expiresAt,
    };
    await requestOverride(c, tenantId, { type: 'card', id: card.id, before }, body, expiresAt);
  });

  router.post('/admin/users/:id/actions', operator, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const body = bodyOf(c, UserActionSchema);
    const expiresAt = futureExpiry(body.expiresAt);
    const user = await knex('users')
      .where({ tenantId, id: pathId(c) })
      .first();
    if (!user) throw new DomainError('NOT_FOUND', 'user not found');
    const before = {
      status: user.status,
      weeklyCardLimitLifted: user.weeklyCardLimitLifted,
      weeklySpendLimit: user.weeklySpendLimit,
    };
    await requestOverride(c, tenantId, { type: 'user', id: user.id, before }, body, expiresAt);
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
    const action = await decide(knex, tenantId, pathId(c), 'approved', ctx.state.auth!.keyId, note);
    const result = await applyAction(deps, action);
    ctx.body = await actionResponse(
      tenantId,
      action.id,
      action.type === 'issue_card' ? { card: result.card } : {},
    );
  });

  router.post('/admin/actions/:id/reject', approver, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const { note } = bodyOf(c, DecisionSchema);
    const action = await decide(knex, tenantId, pathId(c), 'rejected', ctx.state.auth!.keyId, note);
    ctx.body = await actionResponse(tenantId, action.id);
  });

  return router;
}
