/**
 * The partner's listings staged in PostgreSQL for one run: two UNLOGGED tables of the run's own in
 * the `reconciliation_stage` schema. Rows arrive a page at a time as one JSON parameter (no per-row
 * round trips); a page read again (a retried activity) inserts nothing twice.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { PartnerCardRecord, PartnerTransactionRecord } from '../partners/adapter';

export interface StageTables {
  cards: string;
  records: string;
}

export function stageTables(runId: string): StageTables {
  const h = crypto.createHash('sha256').update(runId).digest('hex').slice(0, 24);
  return { cards: `reconciliation_stage.c_${h}`, records: `reconciliation_stage.r_${h}` };
}

export async function createStage(knex: Knex, runId: string): Promise<void> {
  const t = stageTables(runId);
  await knex.raw(
    `CREATE UNLOGGED TABLE IF NOT EXISTS ?? (
       partner_card_id text PRIMARY KEY,
       status text NOT NULL,
       updated_at timestamptz(3) NOT NULL)`,
    [t.cards],
  );
  await knex.raw(
    `CREATE UNLOGGED TABLE IF NOT EXISTS ?? (
       record_id text PRIMARY KEY,
       partner_card_id text NOT NULL,
       partner_transaction_id text NOT NULL,
       type text NOT NULL,
       amount bigint NOT NULL,
       currency text NOT NULL,
       approved boolean,
       event_id text,
       occurred_at timestamptz(3) NOT NULL)`,
    [t.records],
  );
}

/**
 * Drops the stage tables of runs that are no longer running: a run whose workflow was terminated
 * never reached its own `dropStage`. Tables are listed before the running runs are read, and a
 * run's row exists before its tables, so a run starting meanwhile keeps its stage.
 */
export async function dropStaleStages(knex: Knex): Promise<number> {
  const tables: string[] = (
    await knex.raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'reconciliation_stage'`)
  ).rows.map((r: { tablename: string }) => `reconciliation_stage.${r.tablename}`);
  if (!tables.length) return 0;
  const running = await knex('reconciliation_runs').where({ status: 'running' }).pluck('id');
  const keep = new Set(running.flatMap((id: string) => Object.values(stageTables(id))));
  const stale = tables.filter((t) => !keep.has(t));
  for (const t of stale) await knex.raw('DROP TABLE IF EXISTS ??', [t]);
  return stale.length;
}

export async function dropStage(knex: Knex, runId: string): Promise<void> {
  const t = stageTables(runId);
  await knex.raw('DROP TABLE IF EXISTS ??, ??', [t.cards, t.records]);
}

export async function stageCards(knex: Knex, runId: string, rows: PartnerCardRecord[]): Promise<number> {
  if (!rows.length) return 0;
  const r = await knex.raw(
    `INSERT INTO ?? (partner_card_id, status, updated_at)
     SELECT x."partnerCardId", x.status, x."updatedAt"
       FROM json_to_recordset(?::json) AS x("partnerCardId" text, status text, "updatedAt" timestamptz)
     ON CONFLICT (partner_card_id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at`,
    [stageTables(runId).cards, JSON.stringify(rows)],
  );
  return r.rowCount ?? rows.length;
}

export async function stageRecords(
  knex: Knex,
  runId: string,
  rows: PartnerTransactionRecord[],
): Promise<number> {
  if (!rows.length) return 0;
  const r = await knex.raw(
    `INSERT INTO ?? (record_id, partner_card_id, partner_transaction_id, type, amount, currency, approved, event_id,
            occurred_at)
     SELECT x."recordId", x."partnerCardId", x."partnerTransactionId", x.type, x.amount, x.currency, x.approved,
            x."eventId", x."occurredAt"
       FROM json_to_recordset(?::json) AS x("recordId" text, "partnerCardId" text, "partnerTransactionId" text,
            type text, amount bigint, currency text, approved boolean, "eventId" text, "occurredAt" timestamptz)
     ON CONFLICT (record_id) DO NOTHING`,
    [stageTables(runId).records, JSON.stringify(rows)],
  );
  return r.rowCount ?? 0;
}
