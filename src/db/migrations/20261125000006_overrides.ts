import type { Knex } from 'knex';

/**
 * Operator overrides on users (lifted weekly card cap, own weekly spend cap) and the `expired`
 * decision (an override whose expiry found its value already changed by someone else).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.boolean('weekly_card_limit_lifted').notNullable().defaultTo(false);
    // Overrides the program's weeklySpendLimitPerUser for this user when set (minor units).
    t.bigInteger('weekly_spend_limit');
  });
  await knex.raw('ALTER TABLE admin_action_decisions DROP CONSTRAINT admin_action_decisions_check');
  await knex.raw(
    `ALTER TABLE admin_action_decisions ADD CONSTRAINT admin_action_decisions_check CHECK (decision IN ('approved','rejected','applied','failed','reverted','expired'))`,
  );
  await knex.raw(`ALTER TABLE admin_actions ADD CONSTRAINT admin_actions_type_check CHECK (type IN (
    'freeze','unfreeze','cancel','set_spending_limits','allow_regions','extend_expiry',
    'lift_weekly_card_limit','set_weekly_spend_limit','suspend','reinstate','issue_card'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_type_check');
  await knex.raw('ALTER TABLE admin_action_decisions DROP CONSTRAINT admin_action_decisions_check');
  await knex.raw(
    `ALTER TABLE admin_action_decisions ADD CONSTRAINT admin_action_decisions_check CHECK (decision IN ('approved','rejected','applied','failed','reverted'))`,
  );
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('weekly_card_limit_lifted');
    t.dropColumn('weekly_spend_limit');
  });
}
