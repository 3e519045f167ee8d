import type { Knex } from 'knex';

/**
 * Maker-checker compares people, not keys: every key belongs to a named principal (a person or a
 * system), and an action is decided by a principal other than its requester's. Existing keys
 * become their own principals (`key:<id>`) until someone names them. A policy change that loosens
 * the program's controls is an admin action (`change_policy`) waiting for that second principal.
 */
const TYPES = `'freeze','unfreeze','cancel','set_spending_limits','allow_regions','extend_expiry',
    'lift_weekly_card_limit','set_weekly_spend_limit','suspend','reinstate','issue_card','resolve_discrepancy'`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_keys', (t) => {
    t.text('principal');
  });
  await knex.raw(`UPDATE api_keys SET principal = 'key:' || id WHERE principal IS NULL`);
  await knex.raw(`ALTER TABLE api_keys ALTER COLUMN principal SET NOT NULL`);
  await knex.raw(
    `ALTER TABLE api_keys ADD CONSTRAINT api_keys_principal_present CHECK (length(trim(principal)) > 0)`,
  );
  await knex.raw(`ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_type_check,
    ADD CONSTRAINT admin_actions_type_check CHECK (type IN (${TYPES}, 'change_policy'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_type_check,
    ADD CONSTRAINT admin_actions_type_check CHECK (type IN (${TYPES}))`);
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropColumn('principal');
  });
}
