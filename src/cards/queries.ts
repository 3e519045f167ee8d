import type { Knex } from 'knex';
import { Card } from '../db/models';
import { DomainError } from '../domain/errors';

/** A card of the tenant; another tenant's card is NOT_FOUND, exactly like a missing one. */
export async function findCard(knex: Knex, tenantId: string, id: string): Promise<Card> {
  const card = await Card.query(knex).where({ tenantId, id }).first();
  if (!card) throw new DomainError('NOT_FOUND', 'card not found');
  return card;
}
