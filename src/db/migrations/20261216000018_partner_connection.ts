import type { Knex } from 'knex';

/**
 * A real partner's connection, as an operator sees and rotates it: the last four characters of
 * its API key (the key itself stays sealed and is never shown), and the previous real-time
 * authorization secret with its end, so a partner's rotated ASA secret (Lithic keeps the old one
 * 24 h) keeps verifying while the partner switches over, as the signing secret does.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('partner_subscriptions', (t) => {
    t.text('api_key_last4');
    t.text('previous_authorization_secret_encrypted');
    t.timestamp('previous_authorization_secret_expires_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('partner_subscriptions', (t) => {
    t.dropColumn('api_key_last4');
    t.dropColumn('previous_authorization_secret_encrypted');
    t.dropColumn('previous_authorization_secret_expires_at');
  });
}
