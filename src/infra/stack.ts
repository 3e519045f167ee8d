import fs from 'node:fs';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import type { InfraLogger } from './log';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPostgresHandle } from './postgres';
import { resolveTemporalCli } from './temporal-cli';
import { startTemporalCluster, type TemporalClusterHandle } from './temporal-cluster';
import { startTemporalDevServer } from './temporal-server';

export interface Stack {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** Empty when Temporal is external (TEMPORAL_ADDRESS) and TEMPORAL_UI_URL is not set. */
  temporalUiUrl: string;
  /** The Temporal server's Prometheus metrics; empty when Temporal is external. */
  temporalMetricsUrl: string;
  /** The embedded PostgreSQL (absent with DATABASE_URL): kill and restart it to test an outage. */
  postgres?: EmbeddedPostgresHandle;
  /** The Temporal server on PostgreSQL (`temporal: 'postgres'`): kill and restart it likewise. */
  temporalCluster?: TemporalClusterHandle;
  /** Pids of the PostgreSQL and Temporal server processes this stack started (for CPU priorities). */
  pids(): { postgres?: number; temporal?: number };
  /** Stops what was started, Temporal first; once, however often it is called. */
  stop(): Promise<void>;
}

/**
 * Brings up what the platform runs on, for `npm run dev` and for the test suite alike:
 * PostgreSQL (embedded, unless DATABASE_URL is set) and Temporal (unless TEMPORAL_ADDRESS is set):
 * the CLI dev server with a SQLite file (`temporal: 'dev'`, the default), or a Temporal server on
 * that PostgreSQL as a cluster runs it (`temporal: 'postgres'`, src/infra/temporal-cluster.ts).
 */
export async function startStack(opts: {
  dir: string;
  databaseName: string;
  /** Drop and recreate the database (tests). Ignored when DATABASE_URL is set. */
  freshDatabase?: boolean;
  /** Delete Temporal's SQLite file first (tests). */
  freshTemporal?: boolean;
  ui: boolean;
  /** Which Temporal to start when TEMPORAL_ADDRESS is not set (default 'dev'). */
  temporal?: 'dev' | 'postgres';
  /**
   * Stop everything when this process is told to exit (SIGINT, SIGTERM) (default true). A caller
   * with an orderly stop of its own that ends in `stop()` (`npm run dev`) passes false.
   */
  stopOnExit?: boolean;
  preferredPorts?: { postgres?: number; temporal?: number; temporalUi?: number };
  log: InfraLogger;
  env?: NodeJS.ProcessEnv;
}): Promise<Stack> {
  const env = opts.env ?? process.env;
  const { log } = opts;
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const s of stops.reverse())
        await s().catch((err) => log.error({ err: String(err) }, 'stop failed'));
    })());
  if (opts.stopOnExit !== false) exitHook((done) => void stop().finally(done));
  let postgres: EmbeddedPostgresHandle | undefined;
  let temporalCluster: TemporalClusterHandle | undefined;
  let devServerPid: number | undefined;
  try {
    fs.mkdirSync(opts.dir, { recursive: true });
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      postgres = await startEmbeddedPostgres({
        dir: path.join(opts.dir, 'postgres'),
        preferredPort: opts.preferredPorts?.postgres,
        log,
      });
      stops.push(postgres.stop);
      databaseUrl = await ensureDatabase(postgres.adminUrl, opts.databaseName, opts.freshDatabase);
    } else {
      log.info({ component: 'postgres' }, 'using DATABASE_URL');
    }

    let temporalAddress = env.TEMPORAL_ADDRESS;
    const temporalNamespace = env.TEMPORAL_NAMESPACE || 'default';
    let temporalUiUrl = env.TEMPORAL_UI_URL ?? '';
    let temporalMetricsUrl = '';
    if (!temporalAddress && opts.temporal === 'postgres') {
      const cli = await resolveTemporalCli(log);
      // Its own databases and role on the same PostgreSQL server (the compose file's layout).
      const adminUrl = postgres?.adminUrl ?? maintenanceUrl(databaseUrl);
      temporalCluster = await startTemporalCluster({
        dir: path.join(opts.dir, 'temporal-cluster'),
        adminUrl,
        namespace: temporalNamespace,
        fresh: opts.freshTemporal,
        preferredPort: opts.preferredPorts?.temporal,
        cliPath: cli.path,
        log,
      });
      stops.push(temporalCluster.stop);
      temporalAddress = temporalCluster.address;
      temporalMetricsUrl = temporalCluster.metricsUrl;
    } else if (!temporalAddress) {
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
      devServerPid = server.pid;
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
      temporalMetricsUrl = server.metricsUrl;
    } else {
      log.info({ component: 'temporal', address: temporalAddress }, 'using TEMPORAL_ADDRESS');
    }
    return {
      databaseUrl,
      temporalAddress,
      temporalNamespace,
      temporalUiUrl,
      temporalMetricsUrl,
      postgres,
      temporalCluster,
      pids: () => ({ postgres: postgres?.pid(), temporal: temporalCluster?.pid() ?? devServerPid }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The same server's `postgres` database: where databases and roles are created. */
function maintenanceUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}
