import type { Knex } from 'knex';

/**
 * The sandbox partner's listings page on (occurred_at, id) and (created_at, id) with cursors that
 * carry JavaScript dates (milliseconds), like the platform's own lists (migration 8). With
 * microseconds stored, every page read its predecessor's last row again (reconciliation staged it
 * twice, harmlessly, by record id); kept to milliseconds, a cursor sorts exactly at its row.
 */
const COLUMNS: Array<[string, string]> = [
  ['sandbox.transactions', 'occurred_at'],
  ['sandbox.cards', 'created_at'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, column] of COLUMNS)
    await knex.raw(`ALTER TABLE ${table} ALTER COLUMN ?? TYPE timestamptz(3)`, [column]);
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, column] of COLUMNS)
    await knex.raw(`ALTER TABLE ${table} ALTER COLUMN ?? TYPE timestamptz`, [column]);
}
