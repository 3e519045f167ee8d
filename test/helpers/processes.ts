/**
 * Processes the fault tests kill: a Temporal dev server of a test file's own (same SQLite file and
 * port across a restart, so stopping it disturbs no other file) and a real `worker.ts` process on
 * the file's task queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';
import { resolveTemporalCli } from '../../src/infra/temporal-cli';
import { startTemporalDevServer, type TemporalDevServerHandle } from '../../src/infra/temporal-server';
import type { Harness } from './harness';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Starts (or, given the port it had, restarts) the dev server whose files are in `dir`. */
export async function startOwnTemporal(dir: string, port?: number): Promise<TemporalDevServerHandle> {
  const cli = await resolveTemporalCli(quiet);
  return startTemporalDevServer({
    cliPath: cli.path,
    dbFile: path.join(dir, 'temporal.db'),
    namespace: 'default',
    preferredPort: port,
    ui: false,
    logFile: path.join(dir, 'server.log'),
    log: quiet,
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the worker logs that it started. */
  ready: Promise<void>;
  /** What it wrote to stderr so far. */
  stderr: () => string;
}

/** A real worker process (worker.ts) on the harness's database, server and task queue. */
export function startWorkerProcess(h: Harness, opts: { sweepIntervalMs: number }): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'worker.ts')], {
    cwd: projectRoot,
    env: {
      ...process.env,
      DATABASE_URL: h.stack.databaseUrl,
      TEMPORAL_ADDRESS: h.stack.temporalAddress,
      TEMPORAL_NAMESPACE: h.stack.temporalNamespace,
      TEMPORAL_TASK_QUEUE: h.taskQueue,
      VAULT_KEY: h.stack.vaultKey,
      LOG_LEVEL: 'info',
      OUTBOX_SWEEP_INTERVAL_MS: String(opts.sweepIntervalMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker did not start')), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker started')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, ready, stderr: () => stderr };
}
