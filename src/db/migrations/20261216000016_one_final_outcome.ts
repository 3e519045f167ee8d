import type { Knex } from 'knex';

/**
 * One final outcome per delivery, held by the database: at most one row per (tenant, delivery,
 * event) among the final outcomes of a delivery's own processing. A delivery may carry several
 * events (see 20261215000015), each with its outcome; a delivery that never got as far as an
 * event has a null event id (counted as ''). Outside the rule:
 * - `parked`: not final (the event waits for its card, then gets its outcome);
 * - an operator's replay (`details.replay`): a later processing pass, with outcomes of its own;
 * - an explicit supersession (`details.supersedes`): the answer the partner was given, written
 *   after another final outcome of the same delivery and event and saying so (the stand-in).
 * Writers insert with ON CONFLICT DO NOTHING against it (src/webhooks/outcomes.ts): the first
 * final outcome wins.
 *
 * The table is append-only, so rows written before this rule that break it cannot be marked: the
 * migration refuses, naming them, rather than rewrite the audit trail. Nothing has been released
 * (0.1.0); a development database that has such rows is recreated.
 */
const KEY = `(tenant_id, delivery_id, (coalesce(event_id, '')))`;
const FINAL = `outcome <> 'parked' AND details->'replay' IS NULL AND details->'supersedes' IS NULL`;

export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw(
    `SELECT tenant_id, delivery_id, coalesce(event_id, '') AS event_id, count(*)::int AS n
       FROM webhook_outcomes WHERE ${FINAL}
      GROUP BY 1, 2, 3 HAVING count(*) > 1 ORDER BY 1, 2, 3 LIMIT 10`,
  );
  if (rows.length > 0)
    throw new Error(
      `webhook_outcomes has deliveries with more than one final outcome for one event, written before ` +
        `this rule (e.g. ${rows
          .map(
            (r: { delivery_id: string; event_id: string; n: number }) =>
              `${r.delivery_id}/${r.event_id || '-'} ×${r.n}`,
          )
          .join(
            ', ',
          )}); the table is append-only and nothing is released: recreate this development database`,
    );
  await knex.raw(`CREATE UNIQUE INDEX webhook_outcomes_one_final ON webhook_outcomes ${KEY} WHERE ${FINAL}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX webhook_outcomes_one_final`);
}
