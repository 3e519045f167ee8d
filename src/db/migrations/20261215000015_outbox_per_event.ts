import type { Knex } from 'knex';

/**
 * A delivery may carry several canonical events (a Lithic `card_transaction.updated` carries one
 * per entry of its cumulative `events[]`), each deduped by its own id and handed to the card on
 * its own: the outbox is keyed by delivery and event id.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE webhook_handoffs DROP CONSTRAINT webhook_handoffs_pkey`);
  await knex.raw(`ALTER TABLE webhook_handoffs ADD PRIMARY KEY (delivery_id, event_id)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE webhook_handoffs DROP CONSTRAINT webhook_handoffs_pkey`);
  await knex.raw(`ALTER TABLE webhook_handoffs ADD PRIMARY KEY (delivery_id)`);
}
