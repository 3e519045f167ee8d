import type { Knex } from 'knex';

/**
 * The sandbox partner's own books, in its own schema: what a real issuing partner would hold.
 * It never keeps a card number in clear: only an HMAC of it and the last four digits.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE SCHEMA IF NOT EXISTS sandbox');
  await knex.schema.withSchema('sandbox').createTable('cards', (t) => {
    t.text('id').primary();
    // The platform's program (tenant) at the partner, and the platform's own card reference.
    t.text('program_id').notNullable();
    t.text('platform_card_ref').notNullable();
    t.text('pan_hmac').notNullable();
    t.specificType('last4', 'char(4)').notNullable();
    t.smallint('exp_month').notNullable();
    t.smallint('exp_year').notNullable();
    t.text('status').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['program_id', 'platform_card_ref']);
    t.index(['program_id', 'created_at']);
  });
  await knex.raw(
    `ALTER TABLE sandbox.cards ADD CONSTRAINT sandbox_cards_status_check CHECK (status IN ('active','frozen','canceled'))`,
  );

  await knex.schema.withSchema('sandbox').createTable('transactions', (t) => {
    t.text('id').primary();
    t.text('program_id').notNullable();
    t.text('card_id').notNullable().references('id').inTable('sandbox.cards');
    t.text('transaction_id').notNullable();
    t.text('type').notNullable();
    t.bigInteger('amount').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.jsonb('merchant');
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['program_id', 'occurred_at']);
    t.index(['card_id', 'transaction_id']);
  });
  await knex.raw(
    `ALTER TABLE sandbox.transactions ADD CONSTRAINT sandbox_transactions_type_check CHECK (type IN ('authorization','clearing','reversal','refund','expiry'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP SCHEMA IF EXISTS sandbox CASCADE');
}
