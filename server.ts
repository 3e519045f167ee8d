/** API composition root: reads config, builds dependencies, listens. */
import http from 'node:http';
import { loadConfig } from './src/config';
import { configureKeepAlive, createApp } from './src/api/app';
import { createKnex } from './src/db/knex';
import { createPartnerRegistry } from './src/partners/registry';
import { createLogger } from './src/lib/logger';
import { connectClient } from './src/temporal/connection';
import { Vault } from './src/vault/vault';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'api', level: config.logLevel, file: process.env.VCN_LOG_FILE });
  const knex = createKnex(config.databaseUrl, {
    poolMax: config.databasePoolMax,
    applicationName: 'vcn-api',
  });
  const temporal = await connectClient(config.temporal.address, config.temporal.namespace);
  const vault = new Vault(config.vaultKey);
  const app = createApp({
    knex,
    temporal,
    vault,
    logger,
    cards: { taskQueue: config.temporal.taskQueue },
    // The same partners as the worker's (built the same way; the API creates no cards with them).
    partners: createPartnerRegistry({
      knex,
      vault,
      publicUrl: () => config.publicUrl,
      sandboxSecret: config.vaultKey,
    }),
    config: {
      publicUrl: config.publicUrl,
      temporalUiUrl: config.temporal.uiUrl,
      temporalNamespace: config.temporal.namespace,
      bodyLimitBytes: config.bodyLimitBytes,
      sandboxEnabled: config.sandboxEnabled,
      metricsToken: config.metricsToken,
      reconciliation: config.reconciliation,
    },
  });
  const server = http.createServer(app.callback());
  configureKeepAlive(server);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  logger.info({ url: config.publicUrl }, 'api listening');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return; // SIGINT and SIGTERM both arrive on Ctrl-C in `npm run dev`
    stopping = true;
    logger.info('api stopping');
    server.close(() => {
      void Promise.all([knex.destroy(), temporal.connection.close()]).then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(JSON.stringify({ level: 'fatal', msg: 'api failed', err: String(err?.stack ?? err) }));
  process.exit(1);
});
