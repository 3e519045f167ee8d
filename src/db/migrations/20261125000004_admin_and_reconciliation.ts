import type { Knex } from 'knex';

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(',');

export const DISCREPANCY_CATEGORIES = [
  'card_status_mismatch',
  'missing_internal_transaction',
  'missing_partner_transaction',
  'amount_mismatch',
  'duplicate_capture',
  'stale_hold',
  'orphan_partner_card',
  'currency_mismatch',
] as const;
export const RESOLUTIONS = [
  'auto_healed',
  'partner_event_replayed',
  'manual_adjustment',
  'accepted',
  'false_positive',
] as const;

/** The operator audit trail and the reconciliation books. */
export async function up(knex: Knex): Promise<void> {
  // One row per requested operator action, never changed; decisions about it are rows below.
  await knex.schema.createTable('admin_actions', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('subject_type').notNullable();
    t.text('subject_id').notNullable();
    t.text('type').notNullable();
    t.jsonb('params').notNullable().defaultTo('{}');
    t.text('reason').notNullable();
    t.timestamp('expires_at', { useTz: true });
    t.text('requested_by').notNullable();
    t.boolean('requires_approval').notNullable().defaultTo(false);
    t.jsonb('before');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'id']);
    t.index(['tenant_id', 'subject_type', 'subject_id', 'created_at']);
  });
  await knex.raw(
    `ALTER TABLE admin_actions ADD CONSTRAINT admin_actions_reason_present CHECK (length(trim(reason)) > 0)`,
  );
  await knex.raw(
    `ALTER TABLE admin_actions ADD CONSTRAINT admin_actions_subject_check CHECK (subject_type IN ('card','user','policy','tenant','discrepancy','webhook_event','subscription'))`,
  );

  await knex.schema.createTable('admin_action_decisions', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('action_id').notNullable();
    t.text('decision').notNullable();
    t.text('decided_by').notNullable();
    t.text('note');
    t.jsonb('after');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'action_id']).references(['tenant_id', 'id']).inTable('admin_actions');
    t.unique(['tenant_id', 'action_id', 'decision']);
  });
  await knex.raw(
    `ALTER TABLE admin_action_decisions ADD CONSTRAINT admin_action_decisions_check CHECK (decision IN ('approved','rejected','applied','failed','reverted'))`,
  );

  await knex.schema.createTable('reconciliation_runs', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('partner').notNullable();
    t.timestamp('window_from', { useTz: true }).notNullable();
    t.timestamp('window_to', { useTz: true }).notNullable();
    t.text('status').notNullable().defaultTo('running');
    t.text('trigger').notNullable();
    t.text('workflow_id').notNullable();
    t.jsonb('counts').notNullable().defaultTo('{}');
    t.text('error');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.unique(['tenant_id', 'id']);
    t.index(['tenant_id', 'partner', 'started_at']);
  });
  await knex.raw(
    `ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_status_check CHECK (status IN ('running','completed','failed'))`,
  );
  await knex.raw(
    `ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_trigger_check CHECK (trigger IN ('schedule','manual'))`,
  );

  await knex.schema.createTable('discrepancies', (t) => {
    t.text('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('run_id').notNullable();
    t.text('last_seen_run_id').notNullable();
    t.text('partner').notNullable();
    t.text('category').notNullable();
    // Stable identity of the drift (category + partner object ids) so a re-run finds the same row.
    t.text('fingerprint').notNullable();
    t.text('card_id');
    t.text('transaction_id');
    t.text('partner_card_id');
    t.text('partner_transaction_id');
    t.jsonb('internal_value');
    t.jsonb('partner_value');
    t.jsonb('evidence').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('open');
    t.text('resolution');
    t.text('resolution_note');
    t.text('resolved_by');
    t.timestamp('resolved_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['tenant_id', 'run_id']).references(['tenant_id', 'id']).inTable('reconciliation_runs');
    t.index(['tenant_id', 'status', 'created_at']);
    t.index(['tenant_id', 'card_id']);
  });
  await knex.raw(
    `ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_category_check CHECK (category IN (${list(DISCREPANCY_CATEGORIES)}))`,
  );
  await knex.raw(
    `ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_status_check CHECK (status IN ('open','resolved'))`,
  );
  await knex.raw(
    `ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_resolution_check CHECK (resolution IS NULL OR resolution IN (${list(RESOLUTIONS)}))`,
  );
  await knex.raw(
    `ALTER TABLE discrepancies ADD CONSTRAINT discrepancies_resolved_has_resolution CHECK ((status = 'resolved') = (resolution IS NOT NULL))`,
  );
  await knex.raw(
    `CREATE UNIQUE INDEX discrepancies_one_open ON discrepancies (tenant_id, partner, fingerprint) WHERE status = 'open'`,
  );

  for (const table of ['admin_actions', 'admin_action_decisions']) {
    await knex.raw(
      `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION vcn_reject_mutation()`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['discrepancies', 'reconciliation_runs', 'admin_action_decisions', 'admin_actions']) {
    await knex.schema.dropTableIfExists(t);
  }
}
