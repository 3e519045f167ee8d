import Router from '@koa/router';
import { z } from 'zod';
import { AdminAction, AdminActionDecision, Card, TenantPolicy, Transaction, User } from '../../db/models';
import { CARD_STATUSES } from '../../domain/card-state';
import { DomainError } from '../../domain/errors';
import type { ProgramPolicy } from '../../domain/policy';
import { DEFAULT_POLICY } from '../../domain/policy';
import { approvalRequirement, type ActionType } from '../../domain/overrides';
import { presentAction } from '../admin/presenters';
import { classifyPolicyChange, loosenings } from '../../domain/policy-change';
import { currentPolicy } from '../../policies/current';
import { policyChanges } from '../../policies/versions';
import { PolicyPatchSchema } from '../admin/schema';
import { presentTransaction } from '../cards/presenters';
import { findCard } from '../../cards/queries';
import { tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { authenticate, requireRole } from '../middleware/auth';
import { newestFirst } from '../pagination';
import { PaginationSchema, Region } from '../schemas';
import { bodyOf, pathId, queryOf } from '../validate';

const ctxOf = (ctx: unknown): AppContext => ctx as AppContext;

/**
 * 12 to 19 digits standing alone (spaces or dashes between them allowed) are a card number, or
 * look like one: never a search term. Digits inside an identifier (`sbc_4a0123456789012…`, a hex
 * partner card id) are not: the lookarounds keep those searchable.
 */
const CARD_NUMBER_LIKE = /(?<!\w)\d(?:[ -]?\d){11,18}(?!\w)/;

const SearchQuery = PaginationSchema.extend({
  q: z
    .string()
    .trim()
    .max(200)
    .refine((q) => !CARD_NUMBER_LIKE.test(q), {
      message: 'card numbers are not searchable: search by the last four digits',
    })
    .optional(),
  status: z.enum(CARD_STATUSES).optional(),
  region: Region.optional(),
});

const VersionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The version below which the next page starts (the previous page's nextCursor). */
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'a version number')
    .optional(),
});

const ApprovalsQuery = PaginationSchema.extend({
  status: z.enum(['pending', 'decided', 'all']).default('pending'),
});

/**
 * Why an action needs an approver: what the request was refused beyond (an issuance records it),
 * or what the action grants measured against the policy in force.
 */
function approvalReasons(action: AdminAction, policy: ProgramPolicy): string[] {
  const params = (action.params ?? {}) as Record<string, unknown>;
  if (action.type === 'issue_card')
    return Array.isArray(params.beyondProgramCaps) ? params.beyondProgramCaps.map(String) : [];
  if (action.type === 'change_policy')
    return Array.isArray(params.loosening) ? params.loosening.map(String) : [];
  return approvalRequirement({ type: action.type as ActionType, params }, policy).reasons;
}

function presentCardSummary(card: Card, user: User | undefined) {
  return {
    id: card.id,
    status: card.status,
    frozenBy: card.frozenBy,
    last4: card.last4,
    currency: card.currency,
    region: card.region,
    partner: card.partner,
    partnerCardId: card.partnerCardId,
    userId: card.userId,
    user: user ? { id: user.id, externalId: user.externalId, name: user.name } : null,
    expiresAt: new Date(card.expiresAt).toISOString(),
    createdAt: new Date(card.createdAt).toISOString(),
  };
}

/**
 * The reads the operators' console needs beyond the operator endpoints: who the calling key is,
 * card search, a card's transactions and user, policy history and a change's approval need (the
 * charts are in stats-api.ts). Each route authenticates itself: this router is mounted beside
 * the static console, ahead of the API's own routers (so `/admin/cards/search` is not taken for a
 * card id).
 */
export function consoleApiRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();
  const authed = authenticate(knex);
  const operator = requireRole('operator');

  /** Any valid key may ask who it is; the console refuses the roles it does not serve. */
  router.get('/admin/me', authed, async (ctx) => {
    const auth = ctx.state.auth!;
    const key = await knex('api_keys').where({ id: auth.keyId }).first('name', 'created_at');
    const tenant = auth.tenantId
      ? await knex('tenants').where({ id: auth.tenantId }).first('id', 'slug', 'name')
      : null;
    ctx.body = {
      keyId: auth.keyId,
      role: auth.role,
      name: key?.name ?? null,
      tenant: tenant ? { id: tenant.id, slug: tenant.slug, name: tenant.name } : null,
      canApprove: auth.role === 'approver',
    };
  });

  router.get('/admin/cards/search', authed, operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const q = queryOf(c, SearchQuery);
    const query = Card.query(knex).where({ tenantId });
    if (q.q) {
      const term = q.q;
      query.where((w) => {
        w.where({ id: term })
          .orWhere({ partnerCardId: term })
          .orWhere({ userId: term })
          .orWhereIn('userId', knex('users').select('id').where({ tenantId, externalId: term }));
        if (/^[0-9]{4}$/.test(term)) w.orWhere({ last4: term });
      });
    }
    if (q.status) query.where({ status: q.status });
    if (q.region)
      query.where((w) => w.where({ region: q.region }).orWhere('region', 'like', `${q.region}-%`));
    const { rows, nextCursor } = await newestFirst(query, q);
    const users = rows.length
      ? await User.query(knex)
          .where({ tenantId })
          .whereIn('id', [...new Set(rows.map((r) => r.userId))])
      : [];
    const byId = new Map(users.map((u) => [u.id, u]));
    ctx.body = { data: rows.map((r) => presentCardSummary(r, byId.get(r.userId))), nextCursor };
  });

  router.get('/admin/cards/:id/transactions', authed, operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const card = await findCard(deps.knex, tenantId, pathId(c));
    const q = queryOf(c, PaginationSchema);
    const { rows, nextCursor } = await newestFirst(
      Transaction.query(knex).where({ tenantId, cardId: card.id }),
      q,
    );
    ctx.body = { data: rows.map(presentTransaction), nextCursor };
  });

  router.get('/admin/users/:id', authed, operator, async (ctx) => {
    const c = ctxOf(ctx);
    const user = await knex('users')
      .where({ tenantId: tenantOf(c), id: pathId(c) })
      .first();
    if (!user) throw new DomainError('NOT_FOUND', 'user not found');
    const [{ cards }] = await knex('cards')
      .where({ tenantId: user.tenantId, userId: user.id })
      .count<{ cards: string }[]>({ cards: '*' });
    ctx.body = {
      id: user.id,
      externalId: user.externalId,
      name: user.name,
      region: user.region,
      status: user.status,
      weeklyCardLimitLifted: Boolean(user.weeklyCardLimitLifted),
      weeklySpendLimit: user.weeklySpendLimit ?? null,
      cards: Number(cards),
      createdAt: new Date(user.createdAt).toISOString(),
    };
  });

  /**
   * The approval queue: actions that need an approver, pending ones by default (newest first),
   * each with why it needs one. Deciding stays with POST /admin/actions/:id/approve | reject.
   */
  router.get('/admin/approvals', authed, operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const q = queryOf(c, ApprovalsQuery);
    const query = AdminAction.query(knex).where({ tenantId, requiresApproval: true });
    const decided = knex('admin_action_decisions as d').whereRaw(
      'd.tenant_id = admin_actions.tenant_id AND d.action_id = admin_actions.id',
    );
    if (q.status === 'pending') query.whereNotExists(decided);
    if (q.status === 'decided') query.whereExists(decided);
    const [{ rows, nextCursor }, { policy }] = await Promise.all([
      newestFirst(query, q),
      currentPolicy(knex, tenantId),
    ]);
    const cardIds = rows.filter((a) => a.subjectType === 'card').map((a) => a.subjectId);
    const [decisions, cards] = await Promise.all([
      rows.length
        ? AdminActionDecision.query(knex)
            .where({ tenantId })
            .whereIn(
              'actionId',
              rows.map((a) => a.id),
            )
            .orderBy('id')
        : [],
      cardIds.length
        ? knex('cards').where({ tenantId }).whereIn('id', cardIds).select('id', 'last4', 'currency', 'status')
        : [],
    ]);
    const cardOf = new Map(cards.map((x: { id: string }) => [x.id, x]));
    ctx.body = {
      data: rows.map((a) =>
        presentAction(
          a,
          decisions.filter((d) => d.actionId === a.id),
          {
            approvalReasons: approvalReasons(a, policy),
            card: a.subjectType === 'card' ? (cardOf.get(a.subjectId) ?? null) : null,
          },
        ),
      ),
      nextCursor,
    };
  });

  // ---- policy history ----------------------------------------------------------------------------
  router.get('/admin/policy/versions', authed, operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const q = queryOf(c, VersionsQuery);
    const { version: inForce } = await currentPolicy(knex, tenantId);
    const query = TenantPolicy.query(knex).where({ tenantId });
    if (q.cursor) query.where('version', '<', Number(q.cursor));
    // One more than the page: the next page's first row, and the base of the page's last diff.
    const rows = await query.orderBy('version', 'desc').limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const base =
      last && last.version > 1
        ? (rows[q.limit] ??
          (await TenantPolicy.query(knex)
            .where({ tenantId })
            .where('version', '<', last.version)
            .orderBy('version', 'desc')
            .first()))
        : undefined;
    ctx.body = {
      inForce,
      data: page.map((p, i) => {
        const prev = page[i + 1] ?? base;
        const policy = { ...DEFAULT_POLICY, ...p.policy };
        return {
          version: p.version,
          inForce: p.version === inForce,
          createdBy: p.createdBy,
          reason: p.reason,
          createdAt: new Date(p.createdAt).toISOString(),
          policy,
          changes: policyChanges(prev ? { ...DEFAULT_POLICY, ...prev.policy } : null, policy),
        };
      }),
      nextCursor: rows.length > q.limit && last ? String(last.version) : null,
    };
  });

  /**
   * What a policy patch would change and whether the calling key may make it: the same rule as
   * `PATCH /admin/policy`, answered before anything is written (the console's edit form asks it).
   */
  router.post('/admin/policy/preview', authed, operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const { reason: _reason, ...patch } = bodyOf(c, PolicyPatchSchema);
    const { version, policy } = await currentPolicy(knex, tenantId);
    const loose = loosenings(classifyPolicyChange(policy, patch));
    const changes = policyChanges(policy, { ...policy, ...patch });
    ctx.body = {
      version,
      changes,
      needsApprover: loose.length > 0,
      raised: loose.map((c) => c.field),
      approvalReasons: loose.map((c) => c.reason),
      // Any key may ask; a loosening change then waits for a second principal's approval.
      allowed: true,
      threshold: policy.overrideApprovalThreshold,
    };
  });

  return router;
}
