import type { Knex } from 'knex';

export const CARD_STATUSES = ['pending', 'active', 'frozen', 'canceled', 'expired'] as const;
export const ACTOR_TYPES = ['app', 'operator', 'partner', 'system'] as const;

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(',');

/** Cards, the vault that holds their numbers, and the append-only log of their state transitions. */
export async function up(knex: Knex): Promise<void> {
  // Card numbers live here only, AES-256-GCM encrypted; key_id names the key so keys can rotate.
  await knex.schema.createTable('vault_entries', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('card_id').notNullable();
    t.text('key_id').notNullable();
    t.binary('iv').notNullable();
    t.binary('ciphertext').notNullable();
    t.binary('auth_tag').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('rotated_at', { useTz: true });
    t.unique(['tenant_id', 'card_id']);
    t.unique(['tenant_id', 'id']);
    t.index(['key_id']);
  });

  await knex.schema.createTable('cards', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('user_id').notNullable();
    t.text('status').notNullable();
    // Which kind of actor froze the card: an operator's freeze cannot be lifted with an app key.
    t.text('frozen_by');
    t.specificType('currency', 'char(3)').notNullable();
    t.jsonb('controls').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.smallint('exp_month');
    t.smallint('exp_year');
    t.specificType('last4', 'char(4)');
    t.text('partner').notNullable();
    t.text('partner_card_id');
    t.text('vault_entry_id');
    t.text('workflow_id').notNullable();
    t.text('region');
    t.text('issued_by_type').notNullable();
    t.text('issued_by_id').notNullable();
    t.text('issue_reason');
    t.integer('policy_version').notNullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.timestamp('status_changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'user_id']).references(['tenant_id', 'id']).inTable('users');
    t.foreign(['tenant_id', 'vault_entry_id']).references(['tenant_id', 'id']).inTable('vault_entries');
    t.unique(['tenant_id', 'id']);
    t.index(['tenant_id', 'user_id', 'created_at']);
    t.index(['tenant_id', 'status', 'created_at']);
    t.index(['tenant_id', 'created_at']);
  });
  await knex.raw(
    `ALTER TABLE cards ADD CONSTRAINT cards_status_check CHECK (status IN (${list(CARD_STATUSES)}))`,
  );
  await knex.raw(
    `ALTER TABLE cards ADD CONSTRAINT cards_frozen_by_check CHECK (frozen_by IS NULL OR frozen_by IN (${list(ACTOR_TYPES)}))`,
  );
  await knex.raw(
    `ALTER TABLE cards ADD CONSTRAINT cards_frozen_by_only_when_frozen CHECK ((status = 'frozen') = (frozen_by IS NOT NULL))`,
  );
  await knex.raw(
    `ALTER TABLE cards ADD CONSTRAINT cards_issued_by_check CHECK (issued_by_type IN ('app','operator'))`,
  );
  await knex.raw(
    `ALTER TABLE cards ADD CONSTRAINT cards_last4_digits CHECK (last4 IS NULL OR last4 ~ '^[0-9]{4}$')`,
  );
  await knex.raw(`ALTER TABLE cards ADD CONSTRAINT cards_currency_format CHECK (currency ~ '^[A-Z]{3}$')`);
  await knex.raw(
    `CREATE UNIQUE INDEX cards_partner_card ON cards (tenant_id, partner, partner_card_id) WHERE partner_card_id IS NOT NULL`,
  );
  await knex.raw(
    `ALTER TABLE vault_entries ADD CONSTRAINT vault_entries_card_fk FOREIGN KEY (tenant_id, card_id) REFERENCES cards (tenant_id, id) DEFERRABLE INITIALLY DEFERRED`,
  );

  await knex.schema.createTable('card_events', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('card_id').notNullable();
    t.text('from_status');
    t.text('to_status').notNullable();
    t.text('actor_type').notNullable();
    t.text('actor_id').notNullable();
    t.text('cause').notNullable();
    t.text('reason');
    // Idempotency key chosen by the workflow: a retried activity writes the transition once.
    t.text('event_key').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'card_id']).references(['tenant_id', 'id']).inTable('cards');
    t.unique(['tenant_id', 'card_id', 'event_key']);
    t.index(['tenant_id', 'card_id', 'occurred_at']);
  });
  await knex.raw(
    `ALTER TABLE card_events ADD CONSTRAINT card_events_to_check CHECK (to_status IN (${list(CARD_STATUSES)}))`,
  );
  await knex.raw(
    `ALTER TABLE card_events ADD CONSTRAINT card_events_from_check CHECK (from_status IS NULL OR from_status IN (${list(CARD_STATUSES)}))`,
  );
  await knex.raw(
    `ALTER TABLE card_events ADD CONSTRAINT card_events_actor_check CHECK (actor_type IN (${list(ACTOR_TYPES)}))`,
  );
  await knex.raw(
    `CREATE TRIGGER card_events_append_only BEFORE UPDATE OR DELETE ON card_events FOR EACH ROW EXECUTE FUNCTION vcn_reject_mutation()`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('card_events');
  await knex.raw('ALTER TABLE vault_entries DROP CONSTRAINT IF EXISTS vault_entries_card_fk');
  await knex.schema.dropTableIfExists('cards');
  await knex.schema.dropTableIfExists('vault_entries');
}
