import type { Knex } from 'knex';

/**
 * API-key lifecycle: an optional expiry, the last time a key was used (written at most once a
 * minute per key), and rotation with an overlap — the secret a rotation replaced keeps working
 * until `previous_key_expires_at`. Every create, rotate and revoke is an admin action on an
 * `api_key` subject. `created_at` is kept to milliseconds, as list cursors carry it.
 */
const TYPES = `'freeze','unfreeze','cancel','set_spending_limits','allow_regions','extend_expiry',
    'lift_weekly_card_limit','set_weekly_spend_limit','suspend','reinstate','issue_card','resolve_discrepancy',
    'change_policy'`;
const SUBJECTS = `'card','user','policy','tenant','discrepancy','webhook_event','subscription','reconciliation'`;
const KEY_TYPES = `'create_api_key','rotate_api_key','revoke_api_key'`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE api_keys ALTER COLUMN created_at TYPE timestamptz(3)`);
  await knex.schema.alterTable('api_keys', (t) => {
    t.timestamp('expires_at', { useTz: true, precision: 3 });
    t.timestamp('last_used_at', { useTz: true, precision: 3 });
    t.timestamp('rotated_at', { useTz: true, precision: 3 });
    t.text('previous_key_hash').unique();
    t.timestamp('previous_key_expires_at', { useTz: true, precision: 3 });
    t.text('created_by');
    t.index(['tenant_id', 'created_at', 'id']);
  });
  await knex.raw(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_previous_has_expiry
    CHECK ((previous_key_hash IS NULL) = (previous_key_expires_at IS NULL))`);
  await knex.raw(`ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_type_check,
    ADD CONSTRAINT admin_actions_type_check CHECK (type IN (${TYPES}, ${KEY_TYPES}))`);
  await knex.raw(`ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_subject_check,
    ADD CONSTRAINT admin_actions_subject_check CHECK (subject_type IN (${SUBJECTS}, 'api_key'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_subject_check,
    ADD CONSTRAINT admin_actions_subject_check CHECK (subject_type IN (${SUBJECTS}))`);
  await knex.raw(`ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_type_check,
    ADD CONSTRAINT admin_actions_type_check CHECK (type IN (${TYPES}))`);
  await knex.raw(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_previous_has_expiry`);
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropIndex(['tenant_id', 'created_at', 'id']);
    t.dropColumn('expires_at');
    t.dropColumn('last_used_at');
    t.dropColumn('rotated_at');
    t.dropColumn('previous_key_hash');
    t.dropColumn('previous_key_expires_at');
    t.dropColumn('created_by');
  });
  await knex.raw(`ALTER TABLE api_keys ALTER COLUMN created_at TYPE timestamptz`);
}
