import type Koa from 'koa';
import type { Knex } from 'knex';
import { DomainError } from '../../domain/errors';
import { roleSatisfies, type ApiKeyRole } from '../../domain/auth';
import { sha256Hex } from '../../lib/ids';
import type { AppState } from '../context';

/** How stale `last_used_at` may grow before a request writes it again. */
const LAST_USED_EVERY = `interval '60 seconds'`;

/**
 * Authenticates `Authorization: Bearer <key>` against the hashed keys (not revoked, not expired);
 * sets ctx.state.auth and, at most once a minute, the key's `last_used_at`.
 */
export function authenticate(knex: Knex): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <api key>');
    const hash = sha256Hex(match[1]!);
    const key = await knex('api_keys as k')
      .leftJoin('tenants as t', 't.id', 'k.tenant_id')
      // The current secret, or the one a rotation replaced while its overlap lasts.
      .where((w) =>
        w
          .where('k.key_hash', hash)
          .orWhere((p) =>
            p.where('k.previous_key_hash', hash).where('k.previous_key_expires_at', '>', knex.fn.now()),
          ),
      )
      .whereNull('k.revoked_at')
      .where((w) => w.whereNull('k.expires_at').orWhere('k.expires_at', '>', knex.fn.now()))
      .first<
        | {
            id: string;
            tenantId: string | null;
            role: ApiKeyRole;
            principal: string;
            tenantStatus: string | null;
            usedLongAgo: boolean;
          }
        | undefined
      >(
        'k.id',
        'k.tenant_id',
        'k.role',
        'k.principal',
        't.status as tenant_status',
        knex.raw(`(k.last_used_at IS NULL OR k.last_used_at < now() - ${LAST_USED_EVERY}) AS used_long_ago`),
      );
    if (!key) throw new DomainError('UNAUTHENTICATED', 'the API key is not valid');
    if (key.tenantId && key.tenantStatus !== 'active')
      throw new DomainError('FORBIDDEN', 'the tenant is suspended');
    // At most one write a minute per key (the conditional update lets concurrent requests race safely).
    if (key.usedLongAgo)
      await knex('api_keys')
        .where({ id: key.id })
        .where((w) => w.whereNull('last_used_at').orWhereRaw(`last_used_at < now() - ${LAST_USED_EVERY}`))
        .update({ lastUsedAt: knex.fn.now() });
    ctx.state.auth = { keyId: key.id, tenantId: key.tenantId, role: key.role, principal: key.principal };
    await next();
  };
}

export function requireRole(...roles: ApiKeyRole[]): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    const role = ctx.state.auth?.role;
    if (!role || !roleSatisfies(role, roles)) {
      throw new DomainError('FORBIDDEN', `this endpoint needs a key with role ${roles.join(' or ')}`);
    }
    await next();
  };
}
