import type { Knex } from 'knex';

/**
 * A delivery over the body limit is kept too: a bounded prefix in `raw_body`, with what was
 * received in full — its length and SHA-256 — and `body_truncated`. For every other delivery
 * `raw_body` is the whole body (the two columns stay null: its own length and hash).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.boolean('body_truncated').notNullable().defaultTo(false);
    t.bigInteger('received_bytes');
    t.text('received_sha256');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropColumn('body_truncated');
    t.dropColumn('received_bytes');
    t.dropColumn('received_sha256');
  });
}
