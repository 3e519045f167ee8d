import type Koa from 'koa';
import type { Knex } from 'knex';
import { DomainError } from '../../domain/errors';
import { roleSatisfies, type ApiKeyRole } from '../../domain/auth';
import { sha256Hex } from '../../lib/ids';
import type { AppState } from '../context';

/** Authenticates `Authorization: Bearer <key>` against the hashed keys; sets ctx.state.auth. */
export function authenticate(knex: Knex): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <api key>');
    const key = await knex('api_keys as k')
      .leftJoin('tenants as t', 't.id', 'k.tenant_id')
      .where('k.key_hash', sha256Hex(match[1]!))
      .whereNull('k.revoked_at')
      .first<
        | {
            id: string;
            tenantId: string | null;
            role: ApiKeyRole;
            principal: string;
            tenantStatus: string | null;
          }
        | undefined
      >('k.id', 'k.tenant_id', 'k.role', 'k.principal', 't.status as tenant_status');
    if (!key) throw new DomainError('UNAUTHENTICATED', 'the API key is not valid');
    if (key.tenantId && key.tenantStatus !== 'active')
      throw new DomainError('FORBIDDEN', 'the tenant is suspended');
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
