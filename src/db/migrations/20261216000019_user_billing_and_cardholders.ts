import type { Knex } from 'knex';

/**
 * What a real partner needs of a card's holder: a billing address (Stripe files every card under
 * a cardholder, and a cardholder must have one), and the partner's cardholder made for the user
 * the first time (`{ "<partner>": "<its cardholder id>" }`), so the next card goes under the same
 * one instead of a new cardholder per card.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.jsonb('billing_address');
    t.jsonb('partner_cardholders').notNullable().defaultTo('{}');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('billing_address');
    t.dropColumn('partner_cardholders');
  });
}
