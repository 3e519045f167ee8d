import type { Knex } from 'knex';
import { User } from '../db/models';
import type { PartnerAddress } from '../partners/adapter';
import { DomainError } from '../domain/errors';
import { derivedId, newId } from '../lib/ids';

/**
 * A shopper of the tenant. With the caller's idempotency key the id derives from it, so a retry
 * reaches the same user; an external id is the tenant's own and taken once.
 */
export async function createUser(
  knex: Knex,
  input: {
    tenantId: string;
    idempotencyKey?: string;
    user: {
      externalId: string;
      name: string;
      email?: string;
      region: string;
      billingAddress?: PartnerAddress;
    };
  },
): Promise<User> {
  const { tenantId, user } = input;
  const id = input.idempotencyKey ? derivedId('user', tenantId, input.idempotencyKey) : newId('user');
  const inserted = await knex('users')
    .insert({
      id,
      tenantId,
      ...user,
      email: user.email ?? null,
      billingAddress: user.billingAddress ? JSON.stringify(user.billingAddress) : null,
    })
    .onConflict(['tenantId', 'externalId'])
    .ignore()
    .returning('id');
  if (!inserted.length) {
    throw new DomainError('USER_EXTERNAL_ID_TAKEN', `a user with externalId ${user.externalId} exists`);
  }
  return User.query(knex).findById(id).throwIfNotFound();
}
