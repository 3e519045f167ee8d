import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { InfraLogger } from './log';
import { devServerDynamicConfigFlags } from './dynamic-config';
import { pickPort, waitForPort } from './ports';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../workflows/search-attributes';

export interface TemporalDevServerHandle {
  address: string;
  namespace: string;
  uiUrl: string;
  /** The server's own Prometheus metrics (request, persistence and task latencies). */
  metricsUrl: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

interface DevServerOptions {
  cliPath: string;
  dbFile: string;
  namespace: string;
  preferredPort?: number;
  preferredUiPort?: number;
  ui?: boolean;
  logFile?: string;
  log: InfraLogger;
}

/** The dev server lost a race for one of its ports (it picks its internal services' ports itself). */
class PortTakenError extends Error {}

/**
 * Starts `temporal server start-dev` with a SQLite file (state survives restarts), the Web UI,
 * the platform's dynamic config and its search attributes registered. The server chooses
 * free ports for its internal services itself, and another process can take one between its
 * choice and its bind (seen once in a benchmark): that start-up is tried again on new ports.
 */
export async function startTemporalDevServer(opts: DevServerOptions): Promise<TemporalDevServerHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(opts);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 3) throw err;
      opts.log.warn(
        { component: 'temporal', attempt, err: err.message },
        'Temporal dev server start-up retried',
      );
    }
  }
}

async function startDevServerOnce(opts: DevServerOptions): Promise<TemporalDevServerHandle> {
  const { log } = opts;
  fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const port = await pickPort(opts.preferredPort ?? 7233);
  const uiPort = await pickPort(opts.preferredUiPort ?? 8233);
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    opts.dbFile,
    '--namespace',
    opts.namespace,
    '--log-format',
    'json',
    '--log-level',
    'warn',
    // WAL and relaxed syncs: the dev server's SQLite file stays consistent across restarts, and
    // history writes stop waiting on an fsync each (a dev/test server, not a production store).
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    // The dynamic config of deploy/temporal/dynamicconfig.yaml, which the compose file's server and
    // the server on PostgreSQL read as a file: update-with-start, updates, and many in flight per
    // card (a burst of purchases on one card; the server's default allows 10 per workflow).
    ...devServerDynamicConfigFlags(),
    ...SEARCH_ATTRIBUTE_DEFINITIONS.flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]),
  ];
  if (opts.ui === false) args.push('--headless');
  else args.push('--ui-ip', '127.0.0.1', '--ui-port', String(uiPort));
  // The HTTP API and metrics ports default to fixed numbers; let the OS choose so servers can coexist.
  const metricsPort = await pickPort(undefined);
  args.push('--http-port', String(await pickPort(undefined)), '--metrics-port', String(metricsPort));

  const logStart = opts.logFile && fs.existsSync(opts.logFile) ? fs.statSync(opts.logFile).size : 0;
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const child: ChildProcess = spawn(opts.cliPath, args, { stdio: ['ignore', out, out], detached: false });
  if (typeof out === 'number') fs.closeSync(out); // the child has its own copy
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      log.info({ component: 'temporal', code, signal }, 'Temporal dev server exited');
      resolve();
    }),
  );
  const waiting = new AbortController();
  try {
    await Promise.race([
      waitForPort('127.0.0.1', port, 60_000, waiting.signal),
      exitPromise.then(() => {
        const message = `Temporal dev server exited during start-up (see ${opts.logFile ?? 'its output'})`;
        throw logSince(opts.logFile, logStart).includes('address already in use')
          ? new PortTakenError(`${message}: a port was taken`)
          : new Error(message);
      }),
    ]);
    await waitForNamespace(`127.0.0.1:${port}`, opts.namespace, 30_000);
  } catch (err) {
    if (!exited) child.kill('SIGTERM');
    throw err;
  } finally {
    waiting.abort();
  }
  const address = `127.0.0.1:${port}`;
  const uiUrl = opts.ui === false ? '' : `http://127.0.0.1:${uiPort}`;
  log.info({ component: 'temporal', address, uiUrl, dbFile: opts.dbFile }, 'Temporal dev server ready');
  return {
    address,
    namespace: opts.namespace,
    uiUrl,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    pid: child.pid,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(killer);
    },
  };
}

/** What the server wrote to its log file since `offset` (empty without a file). */
function logSince(file: string | undefined, offset: number): string {
  if (!file) return '';
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size - offset, 1 << 20));
      fs.readSync(fd, buf, 0, buf.length, offset);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

async function waitForNamespace(address: string, namespace: string, timeoutMs: number): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    let connection: Awaited<ReturnType<typeof Connection.connect>> | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await connection?.close().catch(() => undefined);
    }
  }
  throw new Error(`Temporal namespace ${namespace} not ready at ${address}: ${String(lastErr)}`);
}
