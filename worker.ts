/** Worker composition root: reads config, builds dependencies, polls the card task queue. */
import { loadConfig } from './src/config';
import { createKnex } from './src/db/knex';
import { createLogger } from './src/lib/logger';
import { Vault } from './src/vault/vault';
import { createWorker, installTemporalLogging } from './src/worker/create-worker';
import { connectClient } from './src/temporal/connection';
import { startOutboxRelay } from './src/webhooks/outbox';
import { startWorkerHealthServer } from './src/worker/health-server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'worker', level: config.logLevel, file: process.env.VCN_LOG_FILE });
  installTemporalLogging(logger, 'WARN', { metricsBindAddress: config.temporal.workerMetricsBind });
  const knex = createKnex(config.databaseUrl, {
    poolMax: config.databasePoolMax,
    applicationName: 'vcn-worker',
  });
  const client = await connectClient(config.temporal.address, config.temporal.namespace);
  const { worker, connection } = await createWorker({
    knex,
    vault: new Vault(config.vaultKey),
    sandboxSecret: config.vaultKey,
    temporal: config.temporal,
    // On SIGTERM, running activities get this long to finish before they are asked to cancel.
    options: { shutdownGraceTime: '10s' },
    reconciliation: {
      client,
      publicUrl: () => config.publicUrl,
      cards: { taskQueue: config.temporal.taskQueue },
    },
  });
  // The outbox relay hands queued webhook deliveries to their card workflows (and retries, and unparks).
  const relay = startOutboxRelay(
    {
      knex,
      vault: new Vault(config.vaultKey),
      temporal: client,
      cards: { taskQueue: config.temporal.taskQueue },
      log: logger,
    },
    config.outboxSweepIntervalMs,
  );
  // Health and metrics for orchestrators and Prometheus (off unless WORKER_HEALTH_BIND is set).
  const health = config.workerHealthBind
    ? await startWorkerHealthServer(
        {
          state: () => worker.getState(),
          knex,
          temporalCheck: () =>
            client.connection.workflowService.describeNamespace({ namespace: config.temporal.namespace }),
          metricsToken: config.metricsToken,
          log: logger,
        },
        config.workerHealthBind,
      )
    : undefined;
  if (health) logger.info({ url: health.url }, 'worker health server listening');
  // Ctrl-C in `npm run dev` reaches this process twice (the terminal's SIGINT and dev's SIGTERM):
  // the second is not an error. A second signal of the same kind still kills it (no handler left).
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    worker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info(
    { taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace },
    'worker started',
  );
  // SIGTERM drains: worker.shutdown() lets running tasks finish (up to the worker's shutdown
  // grace time), then run() resolves and the rest closes in order. The health server stays up
  // meanwhile (/healthz says the worker is draining, /readyz answers 503).
  await worker.run();
  await relay.stop();
  await health?.close();
  await client.connection.close();
  await connection.close();
  await knex.destroy();
  logger.info('worker stopped');
}

main().catch((err) => {
  console.error(JSON.stringify({ level: 'fatal', msg: 'worker failed', err: String(err?.stack ?? err) }));
  process.exit(1);
});
