import type { Knex } from 'knex';

/**
 * A card's money events carry the card workflow's sequence number (its commit key `m<seq>`) into
 * the rows they project to. An authorization decided from the card's books is written by the API
 * as it answers (and by the card later, if the API did not live to), so writes for one
 * transaction can reach the database out of order or at the same time: a transaction's row keeps
 * the newest snapshot (highest sequence), and a user spend item takes a write only if it is newer,
 * recording the change it made (`last_delta`, computed on the locked row) for the week's total.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('transactions', (t) => t.bigInteger('money_seq'));
  await knex.schema.alterTable('user_spend_items', (t) => {
    t.bigInteger('money_seq');
    t.bigInteger('last_delta');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('transactions', (t) => t.dropColumn('money_seq'));
  await knex.schema.alterTable('user_spend_items', (t) => {
    t.dropColumn('money_seq');
    t.dropColumn('last_delta');
  });
}
