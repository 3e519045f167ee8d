/**
 * `npm run reconcile:schedule`: creates or updates the reconciliation schedule of every tenant with
 * an active sandbox subscription, against DATABASE_URL and TEMPORAL_ADDRESS (production set-up;
 * `npm run dev` does the same at start-up).
 */
import { loadConfig } from '../src/config';
import { createKnex } from '../src/db/knex';
import { ensureReconciliationSchedules } from '../src/infra/seed';
import { createLogger } from '../src/lib/logger';
import { connectClient } from '../src/temporal/connection';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ name: 'reconcile-schedule', level: config.logLevel });
  const knex = createKnex(config.databaseUrl, { poolMax: 2 });
  const temporal = await connectClient(config.temporal.address, config.temporal.namespace);
  try {
    const schedules = await ensureReconciliationSchedules(
      knex,
      temporal,
      config.temporal.taskQueue,
      config.reconciliation,
    );
    log.info({ schedules }, `${schedules.length} reconciliation schedule(s) in place`);
  } finally {
    await temporal.connection.close();
    await knex.destroy();
  }
}

main().catch((err) => {
  console.error(
    JSON.stringify({ level: 'fatal', msg: 'reconcile:schedule failed', err: String(err?.stack ?? err) }),
  );
  process.exit(1);
});
