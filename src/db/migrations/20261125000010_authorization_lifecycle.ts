import type { Knex } from 'knex';

/**
 * The authorization lifecycle: a user's weekly spend across all their cards (enforced atomically
 * by a conditional upsert on the week's row), and the transaction event types the platform itself
 * writes itself (the stand-in decision the partner acted on).
 */
export async function up(knex: Knex): Promise<void> {
  // One row per user and week: the sum of the contributions below (held + captured − refunded).
  await knex.schema.createTable('user_spend_weeks', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('user_id').notNullable();
    t.timestamp('week_start', { useTz: true }).notNullable();
    t.bigInteger('spent').notNullable().defaultTo(0);
    t.primary(['tenant_id', 'user_id', 'week_start']);
    t.foreign(['tenant_id', 'user_id']).references(['tenant_id', 'id']).inTable('users');
  });
  // Each card transaction's current contribution to its user's week, so an update is a delta and
  // writing the same contribution twice changes nothing (retries, redeliveries).
  await knex.schema.createTable('user_spend_items', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('item_key').notNullable();
    t.text('user_id').notNullable();
    t.timestamp('week_start', { useTz: true }).notNullable();
    t.bigInteger('amount').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'item_key']);
  });
  await knex.raw('ALTER TABLE transaction_events DROP CONSTRAINT transaction_events_type_check');
  await knex.raw(
    `ALTER TABLE transaction_events ADD CONSTRAINT transaction_events_type_check CHECK (type IN (
       'authorization_request','authorization_advice','authorization_increment','authorization_reversal',
       'authorization_expiry','clearing','refund','authorization_stand_in'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE transaction_events DROP CONSTRAINT transaction_events_type_check');
  await knex.raw(
    `ALTER TABLE transaction_events ADD CONSTRAINT transaction_events_type_check CHECK (type IN (
       'authorization_request','authorization_advice','authorization_increment','authorization_reversal',
       'authorization_expiry','clearing','refund'))`,
  );
  await knex.schema.dropTable('user_spend_items');
  await knex.schema.dropTable('user_spend_weeks');
}
