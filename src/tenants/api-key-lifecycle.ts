/**
 * The API-key lifecycle: create, rotate (the replaced secret stays valid for an overlap), revoke,
 * list. Who may manage which key is `keyManagementRefusal`'s rule; every change is an admin action
 * on an `api_key` subject with its `applied` decision, in the same transaction as the change. The
 * secret is returned once and stored nowhere but as its hash.
 */
import type { Knex } from 'knex';
import { recordAction } from '../admin-actions/requests';
import { recordDecision } from '../admin-actions/decisions';
import { ApiKey } from '../db/models';
import { keyManagementRefusal } from '../domain/api-keys';
import type { ApiKeyRole } from '../domain/auth';
import { DomainError } from '../domain/errors';
import { newId } from '../lib/ids';
import { createApiKey, newKeySecret } from './api-keys';

export interface KeyCaller {
  keyId: string;
  tenantId: string | null;
  role: ApiKeyRole;
  principal: string;
}

export type TenantKeyRole = 'app' | 'operator' | 'approver';

/** The rotation overlap when none is asked for: a day, for the new secret to be deployed. */
export const DEFAULT_OVERLAP_SECONDS = 24 * 60 * 60;

/** The tenant whose keys the caller manages: its own, or (a platform key) the one it names. */
export function managedTenant(caller: KeyCaller, tenantId: string | undefined): string {
  if (caller.tenantId) {
    if (tenantId !== undefined && tenantId !== caller.tenantId)
      throw new DomainError(
        'VALIDATION_FAILED',
        'tenantId is for platform keys; a tenant key manages its own',
        {
          fields: [{ path: 'tenantId', message: 'only with a platform key' }],
        },
      );
    return caller.tenantId;
  }
  if (tenantId === undefined)
    throw new DomainError('VALIDATION_FAILED', 'a platform key names the tenant: tenantId', {
      fields: [{ path: 'tenantId', message: 'required with a platform key' }],
    });
  return tenantId;
}

function assertMayManage(caller: KeyCaller, target: { role: ApiKeyRole; principal: string }): void {
  const refusal = keyManagementRefusal(caller, target);
  if (refusal) throw new DomainError('FORBIDDEN', refusal);
}

async function recordKeyChange(
  trx: Knex.Transaction,
  caller: KeyCaller,
  key: ApiKey,
  type: 'create_api_key' | 'rotate_api_key' | 'revoke_api_key',
  params: Record<string, unknown>,
  reason: string,
): Promise<string> {
  const id = newId('adminAction');
  const tenantId = key.tenantId!;
  await recordAction(trx, {
    id,
    tenantId,
    subjectType: 'api_key',
    subjectId: key.id,
    type,
    params,
    reason,
    requestedBy: caller.keyId,
    requiresApproval: false,
  });
  await recordDecision(trx, {
    tenantId,
    actionId: id,
    decision: 'applied',
    decidedBy: caller.keyId,
    after: {
      role: key.role,
      principal: key.principal,
      expiresAt: key.expiresAt ? new Date(key.expiresAt).toISOString() : null,
      revokedAt: key.revokedAt ? new Date(key.revokedAt).toISOString() : null,
      previousKeyExpiresAt: key.previousKeyExpiresAt
        ? new Date(key.previousKeyExpiresAt).toISOString()
        : null,
    },
  });
  return id;
}

export interface CreateKeyInput {
  tenantId?: string;
  role: TenantKeyRole;
  name: string;
  principal: string;
  expiresAt?: Date | null;
  reason?: string;
}

/** A new tenant key; its secret is in the answer only. */
export async function createTenantKey(
  knex: Knex,
  caller: KeyCaller,
  input: CreateKeyInput,
): Promise<{ apiKey: ApiKey; key: string; actionId: string }> {
  const tenantId = managedTenant(caller, input.tenantId);
  assertMayManage(caller, input);
  return knex.transaction(async (trx) => {
    const tenant = await trx('tenants').where({ id: tenantId }).first('id');
    if (!tenant) throw new DomainError('NOT_FOUND', 'tenant not found');
    const { id, key } = await createApiKey(trx, tenantId, input.role, input.name, input.principal, {
      expiresAt: input.expiresAt ?? null,
      createdBy: caller.keyId,
    });
    const apiKey = await ApiKey.query(trx).findById(id).throwIfNotFound();
    const actionId = await recordKeyChange(
      trx,
      caller,
      apiKey,
      'create_api_key',
      {
        role: input.role,
        name: input.name,
        principal: input.principal,
        expiresAt: input.expiresAt ? input.expiresAt.toISOString() : null,
      },
      input.reason ?? 'API key created',
    );
    return { apiKey, key, actionId };
  });
}

/** A tenant key the caller may manage, locked for the change; another tenant's key is not found. */
async function lockManagedKey(trx: Knex.Transaction, caller: KeyCaller, id: string): Promise<ApiKey> {
  const query = ApiKey.query(trx).findById(id).whereNotNull('tenantId').forUpdate();
  if (caller.tenantId) query.where('tenantId', caller.tenantId);
  const key = await query;
  if (!key) throw new DomainError('NOT_FOUND', 'API key not found');
  assertMayManage(caller, key);
  if (key.revokedAt) throw new DomainError('API_KEY_REVOKED', 'the API key is revoked');
  return key;
}

/**
 * A new secret for the same key (id, role, principal, expiry). The replaced secret stays valid for
 * `overlapSeconds` (0: not at all); a second rotation within the overlap ends the first one's at once.
 */
export async function rotateTenantKey(
  knex: Knex,
  caller: KeyCaller,
  id: string,
  input: { overlapSeconds?: number; reason?: string },
): Promise<{ apiKey: ApiKey; key: string; actionId: string }> {
  const overlapSeconds = input.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  return knex.transaction(async (trx) => {
    const current = await lockManagedKey(trx, caller, id);
    const secret = newKeySecret(current.role);
    await trx('api_keys')
      .where({ id })
      .update({
        keyHash: secret.keyHash,
        keyPrefix: secret.keyPrefix,
        rotatedAt: trx.fn.now(),
        previousKeyHash: overlapSeconds > 0 ? current.keyHash : null,
        previousKeyExpiresAt:
          overlapSeconds > 0 ? trx.raw('now() + make_interval(secs => ?)', [overlapSeconds]) : null,
      });
    const apiKey = await ApiKey.query(trx).findById(id).throwIfNotFound();
    const actionId = await recordKeyChange(
      trx,
      caller,
      apiKey,
      'rotate_api_key',
      { overlapSeconds },
      input.reason ?? 'API key rotated',
    );
    return { apiKey, key: secret.key, actionId };
  });
}

/** Revokes a key: from the next request on it (and a secret a rotation replaced) answers 401. */
export async function revokeTenantKey(
  knex: Knex,
  caller: KeyCaller,
  id: string,
  input: { reason?: string },
): Promise<{ apiKey: ApiKey; actionId: string }> {
  return knex.transaction(async (trx) => {
    await lockManagedKey(trx, caller, id);
    await trx('api_keys').where({ id }).update({ revokedAt: trx.fn.now() });
    const apiKey = await ApiKey.query(trx).findById(id).throwIfNotFound();
    const actionId = await recordKeyChange(
      trx,
      caller,
      apiKey,
      'revoke_api_key',
      {},
      input.reason ?? 'API key revoked',
    );
    return { apiKey, actionId };
  });
}
