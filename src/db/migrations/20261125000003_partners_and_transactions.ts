import type { Knex } from 'knex';

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(',');

export const WEBHOOK_OUTCOMES = [
  'applied',
  'duplicate',
  'ignored',
  'rejected',
  'unparseable',
  'parked',
  'failed',
] as const;
export const TRANSACTION_EVENT_TYPES = [
  'authorization_request',
  'authorization_advice',
  'authorization_increment',
  'authorization_reversal',
  'authorization_expiry',
  'clearing',
  'refund',
] as const;
export const TRANSACTION_STATUSES = ['pending', 'closed', 'declined', 'reversed', 'expired'] as const;

const appendOnly = (table: string): string =>
  `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION vcn_reject_mutation()`;

/** Partner subscriptions, raw webhook deliveries and their outcomes, and the transaction books. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('partner_subscriptions', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('partner').notNullable();
    t.specificType('event_types', 'text[]').notNullable();
    t.text('status').notNullable().defaultTo('active');
    // Signing secrets are encrypted with the vault key (they are needed in clear to verify HMACs).
    t.text('secret_encrypted').notNullable();
    t.text('previous_secret_encrypted');
    t.timestamp('previous_secret_expires_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'id']);
    t.index(['tenant_id', 'partner']);
  });
  await knex.raw(
    `ALTER TABLE partner_subscriptions ADD CONSTRAINT partner_subscriptions_status_check CHECK (status IN ('active','paused','disabled'))`,
  );

  // Every inbound delivery exactly as received, stored before anything else looks at it.
  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('subscription_id').notNullable();
    t.text('partner').notNullable();
    t.jsonb('headers').notNullable();
    t.binary('raw_body').notNullable();
    t.text('request_id');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'subscription_id'])
      .references(['tenant_id', 'id'])
      .inTable('partner_subscriptions');
    t.unique(['tenant_id', 'id']);
    t.index(['tenant_id', 'partner', 'received_at']);
  });

  // What processing did with each delivery; the newest row is its current outcome.
  await knex.schema.createTable('webhook_outcomes', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('delivery_id').notNullable();
    t.text('outcome').notNullable();
    t.text('event_id');
    t.text('event_type');
    t.text('card_id');
    t.text('error');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'delivery_id']).references(['tenant_id', 'id']).inTable('webhook_deliveries');
    t.index(['tenant_id', 'delivery_id', 'id']);
    t.index(['tenant_id', 'card_id', 'created_at']);
    t.index(['tenant_id', 'outcome', 'created_at']);
  });
  await knex.raw(
    `ALTER TABLE webhook_outcomes ADD CONSTRAINT webhook_outcomes_outcome_check CHECK (outcome IN (${list(WEBHOOK_OUTCOMES)}))`,
  );

  await knex.schema.createTable('transactions', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('card_id').notNullable();
    t.text('partner').notNullable();
    t.text('partner_transaction_id').notNullable();
    t.text('status').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.bigInteger('authorized_amount').notNullable().defaultTo(0);
    t.bigInteger('held_amount').notNullable().defaultTo(0);
    t.bigInteger('captured_amount').notNullable().defaultTo(0);
    t.bigInteger('refunded_amount').notNullable().defaultTo(0);
    t.jsonb('merchant');
    t.text('decline_code');
    t.specificType('flags', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('authorized_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'card_id']).references(['tenant_id', 'id']).inTable('cards');
    t.unique(['tenant_id', 'partner', 'partner_transaction_id']);
    t.unique(['tenant_id', 'id']);
    t.index(['tenant_id', 'card_id', 'created_at']);
  });
  await knex.raw(
    `ALTER TABLE transactions ADD CONSTRAINT transactions_status_check CHECK (status IN (${list(TRANSACTION_STATUSES)}))`,
  );
  await knex.raw(
    `ALTER TABLE transactions ADD CONSTRAINT transactions_amounts_non_negative CHECK (authorized_amount >= 0 AND held_amount >= 0 AND captured_amount >= 0 AND refunded_amount >= 0)`,
  );

  await knex.schema.createTable('transaction_events', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('card_id').notNullable();
    t.text('transaction_id');
    t.text('partner_transaction_id');
    t.text('type').notNullable();
    t.bigInteger('amount').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('source').notNullable().defaultTo('partner');
    t.text('delivery_id');
    // The partner's event id (or a key the workflow derives): each event is written once.
    t.text('event_key').notNullable();
    t.jsonb('data').notNullable().defaultTo('{}');
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'card_id']).references(['tenant_id', 'id']).inTable('cards');
    t.unique(['tenant_id', 'event_key']);
    t.index(['tenant_id', 'card_id', 'occurred_at']);
    t.index(['tenant_id', 'transaction_id']);
  });
  await knex.raw(
    `ALTER TABLE transaction_events ADD CONSTRAINT transaction_events_type_check CHECK (type IN (${list(TRANSACTION_EVENT_TYPES)}))`,
  );
  await knex.raw(
    `ALTER TABLE transaction_events ADD CONSTRAINT transaction_events_source_check CHECK (source IN ('partner','reconciliation','system'))`,
  );

  for (const table of ['webhook_deliveries', 'webhook_outcomes', 'transaction_events'])
    await knex.raw(appendOnly(table));
}

export async function down(knex: Knex): Promise<void> {
  for (const t of [
    'transaction_events',
    'transactions',
    'webhook_outcomes',
    'webhook_deliveries',
    'partner_subscriptions',
  ]) {
    await knex.schema.dropTableIfExists(t);
  }
}
