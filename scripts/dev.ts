/**
 * `npm run dev`: PostgreSQL (embedded), migrations, the Temporal dev server with its Web UI (or,
 * with VCN_DEV_TEMPORAL=postgres, a Temporal server on that PostgreSQL), the worker and the API as
 * child processes, and the demo tenant on an empty database. Ctrl-C stops all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import exitHook from 'async-exit-hook';
import { createKnex, migrateLatest } from '../src/db/knex';
import { dataDir, projectRoot } from '../src/infra/paths';
import { pickPort, waitForPort } from '../src/infra/ports';
import { prioritizeApi } from '../src/infra/priority';
import {
  ensureReconciliationSchedules,
  reconciliationSettingsFromEnv,
  seedIfEmpty,
  type DevCredentials,
} from '../src/infra/seed';
import { connectClient } from '../src/temporal/connection';
import { SetupError } from '../src/infra/postgres-files';
import { startStack } from '../src/infra/stack';
import { ensureVaultKey } from '../src/infra/vault-key';
import { createLogger } from '../src/lib/logger';
import { Vault } from '../src/vault/vault';

async function main(): Promise<void> {
  const dir = dataDir();
  const logDir = path.join(dir, 'logs');
  const log = createLogger({ name: 'dev', file: path.join(logDir, 'dev.log') });
  const vaultKey = ensureVaultKey(dir);
  if (vaultKey.source === 'generated')
    log.info({ file: path.join(dir, 'vault.key') }, 'generated a vault key');

  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    // Its own orderly stop (below) stops the API and the worker before the stack.
    // VCN_DEV_TEMPORAL=postgres: a Temporal server on the embedded PostgreSQL, as a cluster runs it
    // (no Web UI), instead of the CLI dev server.
    stack = await startStack({
      dir,
      databaseName: 'vcn',
      ui: true,
      temporal: process.env.VCN_DEV_TEMPORAL === 'postgres' ? 'postgres' : 'dev',
      log,
      stopOnExit: false,
    });
  } catch (err) {
    // A set-up problem is one line naming the cause and the fix; anything else keeps its stack.
    if (err instanceof SetupError) console.error(`npm run dev: ${err.message}`);
    else log.error({ err: String((err as Error)?.stack ?? err) }, 'dev start-up failed');
    process.exit(1);
  }
  const children: ChildProcess[] = [];
  let stopping: Promise<void> | null = null;
  /** Stops the API and worker first, then Temporal and PostgreSQL. Safe to call more than once. */
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      log.info('stopping: api, worker, Temporal, PostgreSQL');
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
            }),
        ),
      );
      await stack.stop();
      log.info('stopped');
    })());
  const shutdown = async (code: number): Promise<void> => {
    await stopAll();
    process.exit(code);
  };
  // async-exit-hook, on SIGINT/SIGTERM, runs its hooks and then exits the process: the orderly
  // shutdown is the hook, so it finishes before the exit.
  exitHook.forceExitTimeout(30_000);
  exitHook((done) => {
    void stopAll().finally(done);
  });

  try {
    const knex = createKnex(stack.databaseUrl);
    const applied = await migrateLatest(knex);
    log.info({ applied }, 'migrations up to date');

    const port = await pickPort(Number(process.env.PORT ?? 3000));
    const apiUrl = process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
    const credentialsFile = path.join(dir, 'dev-credentials.json');
    const seeded = await seedIfEmpty(knex, new Vault(vaultKey.key), {
      apiUrl,
      temporalUiUrl: stack.temporalUiUrl,
    });
    if (seeded) {
      fs.writeFileSync(credentialsFile, `${JSON.stringify(seeded, null, 2)}\n`, { mode: 0o600 });
      log.info({ credentialsFile }, 'seeded tenant demo');
    } else if (fs.existsSync(credentialsFile)) {
      // Ports may differ from the last run: keep the file's URLs current.
      const creds = JSON.parse(fs.readFileSync(credentialsFile, 'utf8')) as DevCredentials;
      const rebase = (url: string): string => url.replace(/^https?:\/\/[^/]+/, apiUrl);
      creds.apiUrl = apiUrl;
      creds.temporalUiUrl = stack.temporalUiUrl;
      for (const t of creds.tenants) t.sandboxWebhookUrl = rebase(t.sandboxWebhookUrl);
      fs.writeFileSync(credentialsFile, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
    } else {
      log.warn(
        { credentialsFile },
        'the database is seeded but the credentials file is missing; delete .data to start over',
      );
    }

    // Each tenant's reconciliation schedule (hourly unless RECONCILIATION_INTERVAL_MS says otherwise).
    const temporal = await connectClient(stack.temporalAddress, stack.temporalNamespace);
    const schedules = await ensureReconciliationSchedules(
      knex,
      temporal,
      process.env.TEMPORAL_TASK_QUEUE || 'vcn-cards',
      reconciliationSettingsFromEnv(),
    );
    await temporal.connection.close();
    log.info({ schedules }, 'reconciliation schedules in place');
    await knex.destroy();

    const env = {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: stack.temporalNamespace,
      TEMPORAL_UI_URL: stack.temporalUiUrl,
      VAULT_KEY: vaultKey.key,
      SANDBOX_ENABLED: 'true',
      PORT: String(port),
      PUBLIC_URL: apiUrl,
    };
    const start = (name: string, entry: string): ChildProcess => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: projectRoot,
        env: { ...env, VCN_LOG_FILE: path.join(logDir, `${name}.log`) },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('exit', (code, signal) => {
        if (!stopping) {
          log.error({ child: name, code, signal }, `${name} exited; stopping everything`);
          void shutdown(1);
        }
      });
      children.push(child);
      return child;
    };
    const worker = start('worker', 'worker.ts');
    const api = start('api', 'server.ts');
    await waitForPort('127.0.0.1', port, 60_000);
    // As the benchmarks run them (README, "Benchmarks"): on a shared machine the API answers
    // first and the workers' bursts wait, not the other way round.
    // VCN_EQUAL_PRIORITIES=1 leaves them equal (to measure the difference).
    const { postgres, temporal: temporalPid } = stack.pids();
    const priorities =
      process.env.VCN_EQUAL_PRIORITIES === '1'
        ? 'all processes run at the same CPU priority (VCN_EQUAL_PRIORITIES=1)'
        : prioritizeApi({
            api: api.pid!,
            others: [worker.pid, temporalPid, postgres].filter((p): p is number => p !== undefined),
          });
    log.info({ api: api.pid, worker: worker.pid, temporal: temporalPid, postgres }, priorities);
    log.info(
      { apiUrl, temporalUiUrl: stack.temporalUiUrl, credentialsFile, logs: logDir },
      `platform ready — API ${apiUrl} · Temporal UI ${stack.temporalUiUrl} · credentials ${credentialsFile}`,
    );
  } catch (err) {
    log.error({ err: String((err as Error)?.stack ?? err) }, 'dev start-up failed');
    await shutdown(1);
  }
}

void main();
