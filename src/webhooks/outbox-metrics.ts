import type { Knex } from 'knex';
import { Gauge } from 'prom-client';
import { workerRegistry } from '../lib/metrics';

/** The database the backlog gauges read at scrape time (the worker's health server sets it). */
let source: Knex | undefined;

/**
 * Read once per scrape for both gauges (prom-client calls each gauge's collect): one query on the
 * outbox's partial index of pending and parked rows, off every request path.
 */
let reading: Promise<{ pending: number; parked: number; oldestDueS: number } | null> | undefined;
function readBacklog(): Promise<{ pending: number; parked: number; oldestDueS: number } | null> {
  if (!source) return Promise.resolve(null);
  reading ??= source
    .raw(
      `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
              count(*) FILTER (WHERE status = 'parked')::int AS parked,
              coalesce(extract(epoch FROM now() - min(next_attempt_at) FILTER (
                WHERE status = 'pending' AND next_attempt_at <= now())), 0)::float8 AS "oldestDueS"
         FROM webhook_handoffs WHERE status IN ('pending', 'parked')`,
    )
    .timeout(2000)
    .then((r: { rows: Array<{ pending: number; parked: number; oldestDueS: number }> }) => r.rows[0] ?? null)
    // An unreachable database shows in /readyz; the gauges keep their last values.
    .catch(() => null)
    .finally(() => setImmediate(() => (reading = undefined)));
  return reading;
}

new Gauge({
  name: 'vcn_outbox_backlog_rows',
  help: 'Outbox rows waiting: pending (due or backing off) and parked (their card not known yet)',
  labelNames: ['status'] as const,
  registers: [workerRegistry],
  async collect() {
    const b = await readBacklog();
    if (!b) return;
    this.set({ status: 'pending' }, b.pending);
    this.set({ status: 'parked' }, b.parked);
  },
});

new Gauge({
  name: 'vcn_outbox_oldest_due_seconds',
  help: 'How long the oldest due outbox row has been waiting for the relay (0: none due)',
  registers: [workerRegistry],
  async collect() {
    const b = await readBacklog();
    if (b) this.set(b.oldestDueS);
  },
});

/** Has the backlog gauges read `knex` (the worker's database) at each scrape. */
export function watchOutboxBacklog(knex: Knex): void {
  source = knex;
}
