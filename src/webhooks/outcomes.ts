/**
 * The one writer of `webhook_outcomes` (append-only): what processing did with each delivery.
 * Every row is written through `insertOutcomesSql` — by `recordOutcome` here (the API's
 * authorization answers, the card workflow's activities) or composed into the statements that
 * write an outcome together with other tables in one round trip (the ingest statement, the
 * money-event statement, the stand-in's statement). A rule about outcomes goes here, once:
 * one final outcome per delivery and event (the first wins; see `ONE_FINAL_OUTCOME`), and which of
 * a delivery's outcomes is its latest (`latestOutcome`).
 */
import type { Knex } from 'knex';
import { preparedStatement } from '../db/prepared';

export type WebhookOutcome =
  'applied' | 'duplicate' | 'ignored' | 'rejected' | 'unparseable' | 'parked' | 'failed';

export interface OutcomeRow {
  tenantId: string;
  deliveryId: string;
  outcome: WebhookOutcome;
  /** The canonical event's id (null: the delivery never got that far). */
  eventId?: string | null;
  /** The canonical kind, or the partner's type for a delivery that was not normalized. */
  eventType?: string | null;
  cardId?: string | null;
  error?: string | null;
  details?: Record<string, unknown>;
}

/**
 * The one rule the database holds for outcomes (migration 20261216000016, index
 * `webhook_outcomes_one_final`): one final outcome per (tenant, delivery, event id or ''). Outside
 * it: `parked` (not final), an operator's replay (`details.replay`, a later pass) and an explicit
 * supersession (`details.supersedes`, see `supersedingOutcomeSql`). Every insert here takes
 * `ON CONFLICT … DO NOTHING` against it: the first final outcome wins, so a late second one (the
 * card's decision after the stand-in answered, a `duplicate` after the delivery's own answer) is
 * not written.
 */
const ONE_FINAL_OUTCOME = `ON CONFLICT (tenant_id, delivery_id, (coalesce(event_id, '')))
      WHERE outcome <> 'parked' AND details->'replay' IS NULL AND details->'supersedes' IS NULL DO NOTHING`;

const COLUMNS = 'tenant_id, delivery_id, outcome, event_id, event_type, card_id, error, details';
const FROM_ROWS = (rows: string) =>
  `FROM (${rows}) AS r(tenant_id, delivery_id, outcome, event_id, event_type, card_id, error, details)`;

/**
 * SQL that inserts the outcome rows a SELECT yields — the columns, in order: tenant_id,
 * delivery_id, outcome, event_id, event_type, card_id, error, details (JSON text) — returning
 * the ids of those it wrote (none for a row the one-final-outcome rule refuses). A statement that
 * writes outcomes with other tables takes its CTE body from here.
 * `unlessRecorded`: only for a delivery that has no outcome yet.
 */
export function insertOutcomesSql(rows: string, opts: { unlessRecorded?: boolean } = {}): string {
  return `INSERT INTO webhook_outcomes (${COLUMNS})
    SELECT r.tenant_id, r.delivery_id, r.outcome, r.event_id, r.event_type, r.card_id, r.error, r.details::jsonb
      ${FROM_ROWS(rows)}
    ${
      opts.unlessRecorded
        ? `WHERE NOT EXISTS (SELECT 1 FROM webhook_outcomes x WHERE x.tenant_id = r.tenant_id AND x.delivery_id = r.delivery_id)`
        : ''
    }
    ${ONE_FINAL_OUTCOME}
    RETURNING id`;
}

/**
 * Two CTEs, `<name>` and `<name>_superseding`, for an outcome that is the answer the partner was
 * given and must be on record as such (the stand-in): inserted as usual when it is the first final
 * outcome of its delivery and event; otherwise (the card's decision, decided in time but heard too
 * late, was recorded first) written as an explicit supersession, `details.supersedes` = the id of
 * the outcome recorded first (null if that one was committed while this statement ran). One row,
 * from a SELECT like `insertOutcomesSql`'s.
 */
export function supersedingOutcomeSql(name: string, row: string): string {
  return `${name} AS (${insertOutcomesSql(row)}),
    ${name}_superseding AS (
      INSERT INTO webhook_outcomes (${COLUMNS})
      SELECT r.tenant_id, r.delivery_id, r.outcome, r.event_id, r.event_type, r.card_id, r.error,
             r.details::jsonb || jsonb_build_object('supersedes', (
               SELECT x.id FROM webhook_outcomes x
                WHERE x.tenant_id = r.tenant_id AND x.delivery_id = r.delivery_id
                  AND coalesce(x.event_id, '') = coalesce(r.event_id, '') AND x.outcome <> 'parked'
                  AND x.details->'replay' IS NULL AND x.details->'supersedes' IS NULL
                ORDER BY x.id LIMIT 1))
        ${FROM_ROWS(row)}
       WHERE NOT EXISTS (SELECT 1 FROM ${name}) AND r.details::jsonb->'replay' IS NULL
      RETURNING id)`;
}

/** Outcome rows as the views read them. */
interface OutcomeView {
  outcome: string;
  details?: Record<string, unknown> | null;
}

/** Whether a `duplicate` row of a delivery's own processing (not an operator's replay). */
const demoted = (o: OutcomeView): boolean => o.outcome === 'duplicate' && o.details?.replay === undefined;

/**
 * A delivery's latest outcome, from its rows in write order: the newest, except that a `duplicate`
 * of the delivery's own processing never outranks another outcome of it (the answer it was given);
 * an operator's replay is a later pass, and its outcome is the latest. (`latestOutcomeOrder` in SQL.)
 */
export function latestOutcome<T extends OutcomeView>(rows: readonly T[]): T | undefined {
  for (let i = rows.length - 1; i >= 0; i--) if (!demoted(rows[i]!)) return rows[i];
  return rows[rows.length - 1];
}

/** ORDER BY terms that put a delivery's latest outcome first (see `latestOutcome`), for alias `o`. */
export const latestOutcomeOrder = (o: string): string =>
  `(${o}.outcome = 'duplicate' AND ${o}.details->'replay' IS NULL), ${o}.id DESC`;

/** One outcome row from named bindings (see `outcomeBindings`). */
const ONE_ROW = `SELECT :tenantId::text, :deliveryId::text, :outcome::text, :eventId::text, :eventType::text,
                        :cardId::text, :error::text, :details::text`;
const RECORD = preparedStatement('record_outcome', insertOutcomesSql(ONE_ROW));
const RECORD_UNLESS_RECORDED = preparedStatement(
  'record_outcome_unless_recorded',
  insertOutcomesSql(ONE_ROW, { unlessRecorded: true }),
);

/** The named bindings of one outcome row, for `insertOutcomesSql` over `:tenantId, :deliveryId, …`. */
export function outcomeBindings(row: OutcomeRow): Record<string, unknown> {
  return {
    tenantId: row.tenantId,
    deliveryId: row.deliveryId,
    outcome: row.outcome,
    eventId: row.eventId ?? null,
    eventType: row.eventType ?? null,
    cardId: row.cardId ?? null,
    error: row.error ?? null,
    details: JSON.stringify(row.details ?? {}),
  };
}

/** Records a delivery's outcome. `unlessRecorded`: only if it has none yet. Says whether it wrote one. */
export async function recordOutcome(
  knex: Knex,
  row: OutcomeRow,
  opts: { unlessRecorded?: boolean } = {},
): Promise<boolean> {
  const rows = await (opts.unlessRecorded ? RECORD_UNLESS_RECORDED : RECORD).run(knex, outcomeBindings(row));
  return rows.length > 0;
}

/** How many of a tenant's deliveries received since `since` have each latest outcome ('pending': none yet). */
export async function deliveriesByLatestOutcome(
  knex: Knex,
  tenantId: string,
  since: Date,
): Promise<Record<string, number>> {
  const { rows } = await knex.raw(
    `SELECT coalesce(o.outcome, 'pending') AS outcome, count(*)::int AS count
       FROM webhook_deliveries d
       LEFT JOIN LATERAL (SELECT outcome FROM webhook_outcomes o
                           WHERE o.tenant_id = d.tenant_id AND o.delivery_id = d.id
                           ORDER BY ${latestOutcomeOrder('o')} LIMIT 1) o ON true
      WHERE d.tenant_id = ? AND d.received_at >= ?
      GROUP BY 1 ORDER BY 1`,
    [tenantId, since],
  );
  return Object.fromEntries(
    (rows as Array<{ outcome: string; count: number }>).map((r) => [r.outcome, r.count]),
  );
}
