import type { Knex } from 'knex';
import type { ApiKeyRole } from '../domain/auth';
import { newId, randomToken, sha256Hex } from '../lib/ids';

/** A new secret for a key of `role`: 256 bits of randomness behind a readable prefix. */
export function newKeySecret(role: ApiKeyRole): { key: string; keyHash: string; keyPrefix: string } {
  const key = `vcn_${role}_${randomToken(32)}`;
  return { key, keyHash: sha256Hex(key), keyPrefix: key.slice(0, 16) };
}

/**
 * Creates an API key. Only its SHA-256 is stored (a high-entropy secret needs no slow hash); the
 * key itself is returned once.
 */
export async function createApiKey(
  db: Knex | Knex.Transaction,
  tenantId: string | null,
  role: ApiKeyRole,
  name: string,
  /** Who holds it (a person or a system): maker-checker compares principals. Default: the name. */
  principal: string = name,
  opts: { expiresAt?: Date | null; createdBy?: string | null } = {},
): Promise<{ id: string; key: string }> {
  const { key, keyHash, keyPrefix } = newKeySecret(role);
  const id = newId('apiKey');
  await db('api_keys').insert({
    id,
    tenantId,
    role,
    name,
    principal,
    keyHash,
    keyPrefix,
    expiresAt: opts.expiresAt ?? null,
    createdBy: opts.createdBy ?? null,
  });
  return { id, key };
}
