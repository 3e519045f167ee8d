import type { Knex } from 'knex';

/**
 * A subscription is a tenant's whole connection to one partner: besides the webhook signing
 * secrets, what outbound calls need (the partner's API key, sealed with the vault key like the
 * secrets; its base URL; Stripe's API version) and the partner's separate secret for real-time
 * authorization requests where it has one (Lithic ASA). All optional: the sandbox needs none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('partner_subscriptions', (t) => {
    t.text('authorization_secret_encrypted');
    t.text('api_key_encrypted');
    t.text('api_base_url');
    t.text('stripe_version');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('partner_subscriptions', (t) => {
    t.dropColumn('authorization_secret_encrypted');
    t.dropColumn('api_key_encrypted');
    t.dropColumn('api_base_url');
    t.dropColumn('stripe_version');
  });
}
