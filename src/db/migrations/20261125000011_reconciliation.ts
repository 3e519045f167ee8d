import type { Knex } from 'knex';

/**
 * Reconciliation: each run's progress and options, and each discrepancy's subject time (a re-run of
 * a window closes only the discrepancies it looked at again). Partner listings are staged per run
 * in UNLOGGED tables of their own schema (they can be fetched again; dropping a run's table is
 * instant, where deleting a million rows is not).
 */
const TYPES = `'freeze','unfreeze','cancel','set_spending_limits','allow_regions','extend_expiry',
    'lift_weekly_card_limit','set_weekly_spend_limit','suspend','reinstate','issue_card'`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE SCHEMA IF NOT EXISTS reconciliation_stage');
  await knex.schema.alterTable('reconciliation_runs', (t) => {
    t.jsonb('progress').notNullable().defaultTo('{}');
    t.jsonb('options').notNullable().defaultTo('{}');
    // Partner records are read up to here; the run compares what both sides knew by then.
    t.timestamp('cutoff_at', { useTz: true, precision: 3 });
  });
  await knex.schema.alterTable('discrepancies', (t) => {
    // When the drifting transaction began (or null for card-level drift).
    t.timestamp('subject_at', { useTz: true, precision: 3 });
    t.index(['tenant_id', 'partner', 'status', 'category']);
    t.index(['tenant_id', 'last_seen_run_id']);
    t.index(['tenant_id', 'partner', 'fingerprint']);
  });
  await knex.raw(
    `ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_subject_check,
       ADD CONSTRAINT admin_actions_subject_check CHECK (subject_type IN ('card','user','policy','tenant','discrepancy','webhook_event','subscription','reconciliation'))`,
  );
  // Resolving a discrepancy is an audited action (operators', and the platform's own heals and closures).
  await knex.raw(`ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_type_check,
    ADD CONSTRAINT admin_actions_type_check CHECK (type IN (${TYPES}, 'resolve_discrepancy'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_type_check,
    ADD CONSTRAINT admin_actions_type_check CHECK (type IN (${TYPES}))`);
  await knex.raw(
    `ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_subject_check,
       ADD CONSTRAINT admin_actions_subject_check CHECK (subject_type IN ('card','user','policy','tenant','discrepancy','webhook_event','subscription'))`,
  );
  await knex.schema.alterTable('discrepancies', (t) => {
    t.dropIndex(['tenant_id', 'partner', 'status', 'category']);
    t.dropIndex(['tenant_id', 'last_seen_run_id']);
    t.dropIndex(['tenant_id', 'partner', 'fingerprint']);
    t.dropColumn('subject_at');
  });
  await knex.schema.alterTable('reconciliation_runs', (t) => {
    t.dropColumn('progress');
    t.dropColumn('options');
    t.dropColumn('cutoff_at');
  });
  await knex.raw('DROP SCHEMA IF EXISTS reconciliation_stage CASCADE');
}
