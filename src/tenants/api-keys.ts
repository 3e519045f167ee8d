import type { Knex } from 'knex';
import type { ApiKeyRole } from '../domain/auth';
import { newId, randomToken, sha256Hex } from '../lib/ids';

/**
 * Creates an API key: 256 bits of randomness behind a readable prefix. Only its SHA-256 is stored
 * (a high-entropy secret needs no slow hash); the key itself is returned once.
 */
export async function createApiKey(
  db: Knex | Knex.Transaction,
  tenantId: string | null,
  role: ApiKeyRole,
  name: string,
  /** Who holds it (a person or a system): maker-checker compares principals. Default: the name. */
  principal: string = name,
): Promise<{ id: string; key: string }> {
  const key = `vcn_${role}_${randomToken(32)}`;
  const id = newId('apiKey');
  await db('api_keys').insert({
    id,
    tenantId,
    role,
    name,
    principal,
    keyHash: sha256Hex(key),
    keyPrefix: key.slice(0, 16),
  });
  return { id, key };
}
