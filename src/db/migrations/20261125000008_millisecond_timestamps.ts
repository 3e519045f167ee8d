import type { Knex } from 'knex';

/**
 * List cursors carry timestamps as JavaScript dates (millisecond precision). PostgreSQL keeps
 * microseconds, so a cursor taken from a row could sort before that row and repeat it (or skip
 * its neighbours in the same millisecond). Timestamps that order lists are kept to milliseconds.
 */
const COLUMNS: Array<[string, string]> = [
  ['cards', 'created_at'],
  ['transactions', 'created_at'],
  ['admin_actions', 'created_at'],
  ['admin_action_decisions', 'created_at'],
  ['webhook_deliveries', 'received_at'],
  ['webhook_outcomes', 'created_at'],
  ['transaction_events', 'created_at'],
  ['card_events', 'created_at'],
  ['users', 'created_at'],
  ['reconciliation_runs', 'started_at'],
  ['discrepancies', 'created_at'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, column] of COLUMNS) {
    await knex.raw(`ALTER TABLE ?? ALTER COLUMN ?? TYPE timestamptz(3)`, [table, column]);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, column] of COLUMNS) {
    await knex.raw(`ALTER TABLE ?? ALTER COLUMN ?? TYPE timestamptz`, [table, column]);
  }
}
