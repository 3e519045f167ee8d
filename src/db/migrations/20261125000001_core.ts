import type { Knex } from 'knex';

/**
 * Tenants (card programs) with versioned policy, API keys, shoppers, and the shared helpers:
 * the append-only trigger function every immutable table uses.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION vcn_reject_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$;
  `);

  await knex.schema.createTable('tenants', (t) => {
    t.text('id').primary();
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.text('status').notNullable().defaultTo('active');
    t.integer('policy_version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `ALTER TABLE tenants ADD CONSTRAINT tenants_status_check CHECK (status IN ('active','suspended'))`,
  );
  await knex.raw(
    `ALTER TABLE tenants ADD CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$')`,
  );

  // Every version of a program's policy is kept, so a decision can be explained by the policy in force.
  await knex.schema.createTable('tenant_policies', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id');
    t.integer('version').notNullable();
    t.jsonb('policy').notNullable();
    t.text('created_by').notNullable();
    t.text('reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'version']);
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.text('id').primary();
    // NULL only for platform keys, which belong to no tenant (CHECK below).
    t.text('tenant_id').references('tenants.id');
    t.text('role').notNullable();
    t.text('name').notNullable();
    t.text('key_hash').notNullable().unique();
    t.text('key_prefix').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
    t.index(['tenant_id']);
  });
  await knex.raw(
    `ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('app','operator','approver','platform'))`,
  );
  await knex.raw(
    `ALTER TABLE api_keys ADD CONSTRAINT api_keys_platform_has_no_tenant CHECK ((role = 'platform') = (tenant_id IS NULL))`,
  );

  await knex.schema.createTable('users', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('external_id').notNullable();
    t.text('name').notNullable();
    t.text('email');
    t.text('region').notNullable();
    t.text('status').notNullable().defaultTo('active');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'external_id']);
    t.unique(['tenant_id', 'id']);
  });
  await knex.raw(
    `ALTER TABLE users ADD CONSTRAINT users_status_check CHECK (status IN ('active','suspended'))`,
  );

  // Idempotency-Key records: the first response is replayed for the same key and body.
  await knex.schema.createTable('idempotency_keys', (t) => {
    // Tenant id, or 'platform' for platform-key requests (which have no tenant).
    t.text('scope').notNullable();
    t.text('tenant_id').references('tenants.id');
    t.text('key').notNullable();
    t.text('method').notNullable();
    t.text('path').notNullable();
    t.text('request_hash').notNullable();
    t.text('status').notNullable().defaultTo('in_progress');
    t.integer('response_status');
    t.jsonb('response_body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.primary(['scope', 'key']);
    t.index(['created_at']);
  });
  await knex.raw(
    `ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_status_check CHECK (status IN ('in_progress','completed'))`,
  );

  // Access audit: card-number reveals and other sensitive reads that are not state changes.
  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('actor_type').notNullable();
    t.text('actor_id').notNullable();
    t.text('action').notNullable();
    t.text('subject_type').notNullable();
    t.text('subject_id').notNullable();
    t.text('request_id');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['tenant_id', 'subject_type', 'subject_id', 'created_at']);
  });

  for (const table of ['tenant_policies', 'audit_events']) {
    await knex.raw(
      `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION vcn_reject_mutation()`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['audit_events', 'idempotency_keys', 'users', 'api_keys', 'tenant_policies', 'tenants']) {
    await knex.schema.dropTableIfExists(t);
  }
  await knex.raw('DROP FUNCTION IF EXISTS vcn_reject_mutation()');
}
