import type { Knex } from 'knex';
import { VaultEntry } from '../db/models';
import { newId } from '../lib/ids';
import { cardAad, type CardSecret, type Vault } from './vault';

/**
 * Stores a card's number and CVC encrypted; idempotent per card (a retried activity finds the
 * entry it wrote before). Returns only the vault reference.
 */
export async function storeCardSecret(
  trx: Knex | Knex.Transaction,
  vault: Vault,
  tenantId: string,
  cardId: string,
  secret: CardSecret,
): Promise<string> {
  const sealed = vault.seal(
    Buffer.from(JSON.stringify({ n: secret.number, c: secret.cvc }), 'utf8'),
    cardAad(tenantId, cardId),
  );
  const inserted: Array<{ id: string }> = await trx('vault_entries')
    .insert({ id: newId('vaultEntry'), tenantId, cardId, ...sealed })
    .onConflict(['tenantId', 'cardId'])
    .ignore()
    .returning('id');
  if (inserted[0]) return inserted[0].id;
  const existing = await VaultEntry.query(trx).where({ tenantId, cardId }).first().throwIfNotFound();
  return existing.id;
}

export async function revealCardSecret(
  knex: Knex,
  vault: Vault,
  tenantId: string,
  cardId: string,
): Promise<CardSecret | null> {
  const entry = await VaultEntry.query(knex).where({ tenantId, cardId }).first();
  if (!entry) return null;
  const plain = JSON.parse(vault.open(entry, cardAad(tenantId, cardId)).toString('utf8')) as {
    n: string;
    c: string;
  };
  return { number: plain.n, cvc: plain.c };
}
