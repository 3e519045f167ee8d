import fs from 'node:fs';
import path from 'node:path';
import type { InfraLogger } from './log';
import { ensureDatabase, startEmbeddedPostgres } from './postgres';
import { resolveTemporalCli } from './temporal-cli';
import { startTemporalDevServer } from './temporal-server';

export interface Stack {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** Empty when Temporal is external (TEMPORAL_ADDRESS) and TEMPORAL_UI_URL is not set. */
  temporalUiUrl: string;
  /** The dev server's Prometheus metrics; empty when Temporal is external. */
  temporalMetricsUrl: string;
  stop(): Promise<void>;
}

/**
 * Brings up what the platform runs on, for `npm run dev` and for the test suite alike:
 * PostgreSQL (embedded, unless DATABASE_URL is set) and Temporal (the CLI dev server with a
 * SQLite file, unless TEMPORAL_ADDRESS is set).
 */
export async function startStack(opts: {
  dir: string;
  databaseName: string;
  /** Drop and recreate the database (tests). Ignored when DATABASE_URL is set. */
  freshDatabase?: boolean;
  /** Delete Temporal's SQLite file first (tests). */
  freshTemporal?: boolean;
  ui: boolean;
  preferredPorts?: { postgres?: number; temporal?: number; temporalUi?: number };
  log: InfraLogger;
  env?: NodeJS.ProcessEnv;
}): Promise<Stack> {
  const env = opts.env ?? process.env;
  const { log } = opts;
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err) => log.error({ err: String(err) }, 'stop failed'));
  };
  try {
    fs.mkdirSync(opts.dir, { recursive: true });
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({
        dir: path.join(opts.dir, 'postgres'),
        preferredPort: opts.preferredPorts?.postgres,
        log,
      });
      stops.push(pg.stop);
      databaseUrl = await ensureDatabase(pg.adminUrl, opts.databaseName, opts.freshDatabase);
    } else {
      log.info({ component: 'postgres' }, 'using DATABASE_URL');
    }

    let temporalAddress = env.TEMPORAL_ADDRESS;
    const temporalNamespace = env.TEMPORAL_NAMESPACE || 'default';
    let temporalUiUrl = env.TEMPORAL_UI_URL ?? '';
    let temporalMetricsUrl = '';
    if (!temporalAddress) {
      const cli = await resolveTemporalCli(log);
      log.info({ component: 'temporal', cli: cli.path, source: cli.source }, 'Temporal CLI resolved');
      const temporalDir = path.join(opts.dir, 'temporal');
      fs.mkdirSync(temporalDir, { recursive: true });
      const dbFile = path.join(temporalDir, 'temporal.db');
      if (opts.freshTemporal) {
        for (const f of fs.readdirSync(temporalDir))
          if (f.startsWith('temporal.db')) fs.rmSync(path.join(temporalDir, f));
      }
      const server = await startTemporalDevServer({
        cliPath: cli.path,
        dbFile,
        namespace: temporalNamespace,
        preferredPort: opts.preferredPorts?.temporal,
        preferredUiPort: opts.preferredPorts?.temporalUi,
        ui: opts.ui,
        logFile: path.join(temporalDir, 'server.log'),
        log,
      });
      stops.push(server.stop);
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
      temporalMetricsUrl = server.metricsUrl;
    } else {
      log.info({ component: 'temporal', address: temporalAddress }, 'using TEMPORAL_ADDRESS');
    }
    return { databaseUrl, temporalAddress, temporalNamespace, temporalUiUrl, temporalMetricsUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
