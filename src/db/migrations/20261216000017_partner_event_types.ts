import type { Knex } from 'knex';

/**
 * The transaction event types real partners need (partners.md §6): a hold change the partner
 * decided (`authorization_adjustment`: Lithic AUTHORIZATION_ADVICE, a Stripe amount rise without a
 * request) and a partner record no rule applies, flagged for review (`transaction_review`: Lithic
 * RETURN_REVERSAL / CORRECTION_*, a Stripe transaction of an unknown kind). Both are what the
 * normalizers emit (domain/events.ts TRANSACTION_EVENT_TYPE).
 */
const BEFORE = [
  'authorization_request',
  'authorization_advice',
  'authorization_increment',
  'authorization_reversal',
  'authorization_expiry',
  'clearing',
  'refund',
  'authorization_stand_in',
];
const AFTER = [...BEFORE, 'authorization_adjustment', 'transaction_review'];

const check = (types: string[]): string =>
  `ALTER TABLE transaction_events ADD CONSTRAINT transaction_events_type_check CHECK (type IN (${types
    .map((t) => `'${t}'`)
    .join(',')}))`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE transaction_events DROP CONSTRAINT transaction_events_type_check');
  await knex.raw(check(AFTER));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE transaction_events DROP CONSTRAINT transaction_events_type_check');
  await knex.raw(check(BEFORE));
}
