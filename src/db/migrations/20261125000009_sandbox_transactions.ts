import type { Knex } from 'knex';

/** The sandbox partner remembers whether it approved an authorization and which event announced it. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sandbox').alterTable('transactions', (t) => {
    t.boolean('approved');
    t.text('event_id');
    t.boolean('silent').notNullable().defaultTo(false);
  });
  // Listing cursors carry millisecond dates (see 20261125000008).
  await knex.raw('ALTER TABLE sandbox.transactions ALTER COLUMN occurred_at TYPE timestamptz(3)');
  await knex.raw('ALTER TABLE sandbox.cards ALTER COLUMN created_at TYPE timestamptz(3)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sandbox').alterTable('transactions', (t) => {
    t.dropColumn('approved');
    t.dropColumn('event_id');
    t.dropColumn('silent');
  });
}
