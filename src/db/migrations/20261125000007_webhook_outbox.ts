import type { Knex } from 'knex';

/**
 * Webhook dedupe keys and the hand-off outbox. A delivery that passed verification gets its event
 * key and its outbox row in one transaction; the outbox row is handed to the card workflow right
 * away or, when that fails (Temporal down) or the card is not known yet (parked), by the sweeper.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_event_keys', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('partner').notNullable();
    t.text('event_id').notNullable();
    t.text('delivery_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'partner', 'event_id']);
    t.foreign(['tenant_id', 'delivery_id']).references(['tenant_id', 'id']).inTable('webhook_deliveries');
  });

  await knex.schema.createTable('webhook_handoffs', (t) => {
    t.text('delivery_id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('partner').notNullable();
    t.text('event_id').notNullable();
    t.text('partner_card_id').notNullable();
    t.text('card_id');
    t.jsonb('event').notNullable();
    t.text('source').notNullable().defaultTo('partner');
    t.text('status').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'delivery_id']).references(['tenant_id', 'id']).inTable('webhook_deliveries');
    t.index(['tenant_id', 'partner', 'partner_card_id']);
  });
  await knex.raw(
    `ALTER TABLE webhook_handoffs ADD CONSTRAINT webhook_handoffs_status_check CHECK (status IN ('pending','parked','handed_off'))`,
  );
  await knex.raw(
    `CREATE INDEX webhook_handoffs_due ON webhook_handoffs (next_attempt_at) WHERE status IN ('pending','parked')`,
  );

  await knex.schema.alterTable('transactions', (t) => {
    t.bigInteger('reversed_amount').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('transactions', (t) => t.dropColumn('reversed_amount'));
  await knex.schema.dropTableIfExists('webhook_handoffs');
  await knex.schema.dropTableIfExists('webhook_event_keys');
}
