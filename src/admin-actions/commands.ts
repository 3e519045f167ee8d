/**
 * The operators' commands: request an override (of a card or a user) or an issuance beyond the
 * program's caps, and approve or reject one. Each records the request (append-only, with the
 * subject's state before), and carries out at once what needs no approver.
 */
import { AdminAction } from '../db/models';
import { overridesForIssuance } from '../domain/admin-issuance';
import { DomainError } from '../domain/errors';
import { approvalRequirement, type ActionType } from '../domain/overrides';
import { resolveControls } from '../domain/policy';
import { findCard } from '../cards/queries';
import { cardsIssuedThisWeek } from '../issuance/weekly-cards';
import type { CardRequest } from '../issuance/issue-card';
import { newId } from '../lib/ids';
import { currentPolicy } from '../policies/current';
import { decide } from './actions';
import { applyAction, type AdminActionDeps } from './apply';
import { recordAction, type ActionRequest } from './requests';

export interface RequestedAction {
  id: string;
  /** Why it waits for an approver (empty: it was carried out). */
  approvalReasons: string[];
  /** The card an issuance made. */
  cardId?: string;
}

interface OverrideBody {
  type: ActionType;
  params: Record<string, unknown>;
  reason: string;
}

/** Records an action and, unless it needs an approver, carries it out. */
async function request(
  deps: AdminActionDeps,
  a: ActionRequest,
  approval: { required: boolean; reasons: string[] },
): Promise<RequestedAction> {
  await recordAction(deps.knex, { ...a, requiresApproval: approval.required });
  if (approval.required) return { id: a.id, approvalReasons: approval.reasons };
  const { cardId } = await applyAction(
    deps,
    await AdminAction.query(deps.knex).findById(a.id).throwIfNotFound(),
  );
  return { id: a.id, approvalReasons: [], ...(cardId ? { cardId } : {}) };
}

async function requestOverride(
  deps: AdminActionDeps,
  input: {
    tenantId: string;
    subject: { type: 'card' | 'user'; id: string; before: Record<string, unknown> };
    body: OverrideBody;
    expiresAt: Date | null;
    requestedBy: string;
  },
): Promise<RequestedAction> {
  const { policy } = await currentPolicy(deps.knex, input.tenantId);
  const requirement = approvalRequirement({ type: input.body.type, params: input.body.params }, policy);
  return request(
    deps,
    {
      id: newId('adminAction'),
      tenantId: input.tenantId,
      subjectType: input.subject.type,
      subjectId: input.subject.id,
      type: input.body.type,
      params: input.body.params,
      reason: input.body.reason,
      expiresAt: input.expiresAt,
      requestedBy: input.requestedBy,
      before: input.subject.before,
    },
    requirement,
  );
}

/** An override of a card (freeze, limits, regions, expiry …), applied through its workflow. */
export async function requestCardOverride(
  deps: AdminActionDeps,
  input: {
    tenantId: string;
    cardId: string;
    body: OverrideBody;
    expiresAt: Date | null;
    requestedBy: string;
  },
): Promise<RequestedAction> {
  if (input.expiresAt && input.body.type === 'cancel')
    throw new DomainError('OVERRIDE_NOT_REVERSIBLE', 'a cancellation cannot expire');
  const card = await findCard(deps.knex, input.tenantId, input.cardId);
  const before = {
    status: card.status,
    frozenBy: card.frozenBy,
    controls: card.controls,
    expiresAt: card.expiresAt,
  };
  return requestOverride(deps, { ...input, subject: { type: 'card', id: card.id, before } });
}

/** An override of a user (their weekly caps, a suspension), applied under the user's row lock. */
export async function requestUserOverride(
  deps: AdminActionDeps,
  input: {
    tenantId: string;
    userId: string;
    body: OverrideBody;
    expiresAt: Date | null;
    requestedBy: string;
  },
): Promise<RequestedAction> {
  const user = await deps.knex('users').where({ tenantId: input.tenantId, id: input.userId }).first();
  if (!user) throw new DomainError('NOT_FOUND', 'user not found');
  const before = {
    status: user.status,
    weeklyCardLimitLifted: user.weeklyCardLimitLifted,
    weeklySpendLimit: user.weeklySpendLimit,
  };
  return requestOverride(deps, { ...input, subject: { type: 'user', id: user.id, before } });
}

/**
 * Admin issuance: the same workflow path as the app's. Within policy it issues at once; beyond a
 * program cap or limit it is an override and waits for an approver.
 */
export async function requestAdminIssuance(
  deps: AdminActionDeps,
  input: { tenantId: string; request: CardRequest; reason: string; requestedBy: string },
): Promise<RequestedAction> {
  const { tenantId, request: card } = input;
  const user = await deps.knex('users').where({ tenantId, id: card.userId }).first();
  if (!user) throw new DomainError('NOT_FOUND', 'user not found');
  const { policy } = await currentPolicy(deps.knex, tenantId);
  const nowMs = Date.now();
  const needed = overridesForIssuance(
    {
      policy,
      user,
      controls: resolveControls(card.controls, policy),
      expiresAtMs: card.expiresAt ? Date.parse(card.expiresAt) : nowMs + 365 * 86_400_000,
      nowMs,
      cardsIssuedThisWeek: await cardsIssuedThisWeek(deps.knex, {
        tenantId,
        userId: user.id,
        atMs: nowMs,
        policy,
      }),
    },
    { ignoreWeeklyCardLimit: user.weeklyCardLimitLifted },
  );
  if (!needed.ok) throw new DomainError(needed.refusal.code, needed.refusal.message, needed.refusal.details);
  const { overrides, beyond } = needed;
  const requirement = approvalRequirement({ type: 'issue_card', params: {} }, policy, {
    beyondProgramCaps: beyond,
  });
  return request(
    deps,
    {
      id: newId('adminAction'),
      tenantId,
      subjectType: 'user',
      subjectId: user.id,
      type: 'issue_card',
      params: { request: card, overrides, beyondProgramCaps: beyond },
      reason: input.reason,
      requestedBy: input.requestedBy,
    },
    requirement,
  );
}

/** An approver's yes: recorded, then carried out (a refusal then is recorded as `failed`). */
export async function approveAction(
  deps: AdminActionDeps,
  input: { tenantId: string; actionId: string; by: string; note?: string },
): Promise<{ action: AdminAction; cardId?: string }> {
  const action = await decide(deps.knex, input.tenantId, input.actionId, 'approved', input.by, input.note);
  const { cardId } = await applyAction(deps, action);
  return { action, ...(cardId ? { cardId } : {}) };
}

/** An approver's no. */
export async function rejectAction(
  deps: AdminActionDeps,
  input: { tenantId: string; actionId: string; by: string; note?: string },
): Promise<AdminAction> {
  return decide(deps.knex, input.tenantId, input.actionId, 'rejected', input.by, input.note);
}
