import Router from '@koa/router';
import { z } from 'zod';
import type { ApiKey } from '../../db/models';
import { ApiKey as ApiKeyModel } from '../../db/models';
import { DomainError } from '../../domain/errors';
import {
  createTenantKey,
  managedTenant,
  revokeTenantKey,
  rotateTenantKey,
  type KeyCaller,
} from '../../tenants/api-key-lifecycle';
import type { ApiDeps, AppContext, AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { newestFirst } from '../pagination';
import { IsoDateTime, PaginationSchema } from '../schemas';
import { bodyOf, pathId, queryOf } from '../validate';

/** Printable text without control characters (a principal or name shows in every audit view). */
const Label = z
  .string()
  .trim()
  .min(1)
  .max(200)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');
const Reason = z.string().trim().min(1).max(1000).optional();
const TenantId = z.string().regex(/^ten_[0-9a-z]{1,64}$/, 'a tenant id');

const CreateKeySchema = z.strictObject({
  role: z.enum(['app', 'operator', 'approver']),
  name: Label,
  principal: Label,
  expiresAt: IsoDateTime.optional(),
  tenantId: TenantId.optional(),
  reason: Reason,
});
const RotateKeySchema = z.strictObject({
  overlapSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60 * 60)
    .optional(),
  reason: Reason,
});
const RevokeKeySchema = z.strictObject({ reason: Reason });
const ListKeysQuery = PaginationSchema.extend({ tenantId: TenantId.optional() });

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

/** A key as shown: never its secret nor the secret's hash. */
export function presentApiKey(k: ApiKey) {
  return {
    id: k.id,
    tenantId: k.tenantId,
    role: k.role,
    name: k.name,
    principal: k.principal,
    keyPrefix: k.keyPrefix,
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
    rotatedAt: iso(k.rotatedAt),
    previousKeyExpiresAt: iso(k.previousKeyExpiresAt),
    createdBy: k.createdBy,
    createdAt: iso(k.createdAt)!,
  };
}

function futureDate(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const at = new Date(value);
  if (at.getTime() <= Date.now())
    throw new DomainError('VALIDATION_FAILED', 'expiresAt must be in the future', {
      fields: [{ path: 'expiresAt', message: 'must be in the future' }],
    });
  return at;
}

/**
 * API keys of a tenant: create, list, rotate, revoke (operator and approver keys for their own
 * tenant, a platform key for the tenant it names; who may mint which role: domain/api-keys.ts).
 */
export function apiKeysRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();
  const manager = requireRole('operator', 'platform');
  const caller = (ctx: AppContext): KeyCaller => ctx.state.auth!;

  router.post('/admin/api-keys', manager, idempotency(knex, { redact: ['key'] }), async (ctx) => {
    const body = bodyOf(ctx as AppContext, CreateKeySchema);
    const { apiKey, key, actionId } = await createTenantKey(knex, caller(ctx as AppContext), {
      ...body,
      expiresAt: futureDate(body.expiresAt),
    });
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...presentApiKey(apiKey), key, actionId };
  });

  router.get('/admin/api-keys', manager, async (ctx) => {
    const q = queryOf(ctx as AppContext, ListKeysQuery);
    const tenantId = managedTenant(caller(ctx as AppContext), q.tenantId);
    const { rows, nextCursor } = await newestFirst(ApiKeyModel.query(knex).where({ tenantId }), q);
    ctx.body = { data: rows.map(presentApiKey), nextCursor };
  });

  router.post('/admin/api-keys/:id/rotate', manager, idempotency(knex, { redact: ['key'] }), async (ctx) => {
    const id = pathId(ctx as AppContext);
    const body = bodyOf(ctx as AppContext, RotateKeySchema);
    const { apiKey, key, actionId } = await rotateTenantKey(knex, caller(ctx as AppContext), id, body);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...presentApiKey(apiKey), key, actionId };
  });

  router.post('/admin/api-keys/:id/revoke', manager, idempotency(knex), async (ctx) => {
    const id = pathId(ctx as AppContext);
    const body = bodyOf(ctx as AppContext, RevokeKeySchema);
    const { apiKey, actionId } = await revokeTenantKey(knex, caller(ctx as AppContext), id, body);
    ctx.body = { ...presentApiKey(apiKey), actionId };
  });
  return router;
}
