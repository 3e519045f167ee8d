import type { Knex } from 'knex';
import { User } from '../db/models';
import { DomainError } from '../domain/errors';
import type { PartnerAddress } from '../partners/adapter';

/**
 * Sets the user's billing address: what a partner that files cards under cardholders (Stripe)
 * is given when it makes the user's cardholder, with their first card there. A cardholder made
 * before keeps the address it was made with.
 */
export async function setBillingAddress(
  knex: Knex,
  input: { tenantId: string; userId: string; billingAddress: PartnerAddress },
): Promise<User> {
  const updated = await knex('users')
    .where({ tenantId: input.tenantId, id: input.userId })
    .update({ billingAddress: JSON.stringify(input.billingAddress), updatedAt: knex.fn.now() });
  if (!updated) throw new DomainError('NOT_FOUND', 'user not found');
  return User.query(knex).where({ tenantId: input.tenantId, id: input.userId }).first().throwIfNotFound();
}
