/**
 * The one writer of `webhook_outcomes` (append-only): what processing did with each delivery.
 * Every row is written through `insertOutcomesSql` — by `recordOutcome` here (the API's
 * authorization answers, the card workflow's activities) or composed into the statements that
 * write an outcome together with other tables in one round trip (the ingest statement, the
 * money-event statement, the stand-in's statement). A rule about outcomes goes here, once.
 */
import type { Knex } from 'knex';
import { preparedStatement } from '../db/prepared';
import { containsNul, escapeNul, jsonWithoutNul } from '../lib/nul';

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
 * SQL that inserts the outcome rows a SELECT yields — the columns, in order: tenant_id,
 * delivery_id, outcome, event_id, event_type, card_id, error, details (JSON text) — returning
 * their ids. A statement that writes outcomes with other tables takes its CTE body from here.
 * `unlessRecorded`: only for a delivery that has no outcome yet.
 */
export function insertOutcomesSql(rows: string, opts: { unlessRecorded?: boolean } = {}): string {
  return `INSERT INTO webhook_outcomes (tenant_id, delivery_id, outcome, event_id, event_type, card_id, error, details)
    SELECT r.tenant_id, r.delivery_id, r.outcome, r.event_id, r.event_type, r.card_id, r.error, r.details::jsonb
      FROM (${rows}) AS r(tenant_id, delivery_id, outcome, event_id, event_type, card_id, error, details)
    ${
      opts.unlessRecorded
        ? `WHERE NOT EXISTS (SELECT 1 FROM webhook_outcomes x WHERE x.tenant_id = r.tenant_id AND x.delivery_id = r.delivery_id)`
        : ''
    }
    RETURNING id`;
}

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
  // What a partner sent can hold a NUL, which text and jsonb cannot: written escaped (the
  // delivery's bytes keep the original).
  const text = (v: string | null | undefined): string | null => (v == null ? null : escapeNul(v));
  const details = row.details ?? {};
  return {
    tenantId: row.tenantId,
    deliveryId: row.deliveryId,
    outcome: row.outcome,
    eventId: text(row.eventId),
    eventType: text(row.eventType),
    cardId: row.cardId ?? null,
    error: text(row.error),
    details: containsNul(details) ? jsonWithoutNul(details) : JSON.stringify(details),
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
