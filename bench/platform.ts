/**
 * The platform as the benchmarks run it: PostgreSQL and Temporal from the project's stack, and the
 * worker and the API each in a process of their own (as in production), so the load generator in
 * the bench process does not share an event loop with what it measures.
 */
import fs from 'node:fs';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createKnex, migrateLatest } from '../src/db/knex';
import { dataDir, projectRoot } from '../src/infra/paths';
import { pickPort, waitForPort } from '../src/infra/ports';
import { startStack, type Stack } from '../src/infra/stack';
import { createApiKey } from '../src/tenants/api-keys';
import { connectClient } from '../src/temporal/connection';
import { generateVaultKeySpec, Vault } from '../src/vault/vault';
import { progress } from './lib';

export interface BenchPlatform {
  stack: Stack;
  knex: Knex;
  vault: Vault;
  temporal: Client;
  taskQueue: string;
  baseUrl: string;
  platformKey: string;
  call(
    method: string,
    p: string,
    key: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  /** Pids of the worker and API processes (for CPU and memory sampling). */
  pids: { worker: number; api: number };
  /** Prometheus metrics of the worker's Temporal SDK and of the Temporal server. */
  metricsUrls: { worker: string; temporal: string };
  stop(): Promise<void>;
}

function startChild(
  script: string,
  env: NodeJS.ProcessEnv,
  ready: string,
  logFile: string,
): Promise<ChildProcess> {
  // BENCH_PROFILE=worker,server writes V8 CPU profiles of those processes to .data/<bench>/profiles.
  const profiled = (process.env.BENCH_PROFILE ?? '').split(',').includes(path.basename(script, '.ts'));
  const prof = profiled
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(path.dirname(logFile), 'profiles')}`]
    : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', path.join(projectRoot, script)], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer): void => {
      seen = (seen + b.toString()).slice(-4096);
      if (seen.includes(ready)) {
        child.stdout!.off('data', onData);
        child.stdout!.pipe(fs.createWriteStream(logFile, { flags: 'a' }));
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
}

export async function startBenchPlatform(name: string): Promise<BenchPlatform> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const quiet = {
    info: () => undefined,
    warn: () => undefined,
    error: (o: object, m?: string) => console.error(m, o),
  };
  progress(`starting PostgreSQL and Temporal under .data/${name}`);
  const stack = await startStack({
    dir: path.join(dataDir(), name),
    databaseName: `vcn_${name.replace(/[^a-z0-9]/g, '_')}`,
    freshDatabase: true,
    freshTemporal: true,
    ui: false,
    log: quiet,
  });
  const knex = createKnex(stack.databaseUrl, { poolMax: 20 });
  await migrateLatest(knex);
  const vaultKey = generateVaultKeySpec(name);
  const vault = new Vault(vaultKey);
  const taskQueue = `${name}-cards`;
  const port = await pickPort(undefined);
  const baseUrl = `http://127.0.0.1:${port}`;
  const workerMetricsPort = await pickPort(undefined);
  const env = {
    DATABASE_URL: stack.databaseUrl,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: stack.temporalNamespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    VAULT_KEY: vaultKey,
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    SANDBOX_ENABLED: 'true',
    LOG_LEVEL: 'info',
    TEMPORAL_WORKER_METRICS_BIND: `127.0.0.1:${workerMetricsPort}`,
  };
  progress('starting the worker and the API, each in its own process');
  const logs = path.join(dataDir(), name);
  const worker = await startChild('worker.ts', env, 'worker started', path.join(logs, 'worker.log'));
  const api = await startChild('server.ts', env, 'api listening', path.join(logs, 'api.log'));
  await waitForPort('127.0.0.1', port, 10_000);
  // On this shared 2-core host the API (the acknowledgement path) and the load generator (which
  // stands in for the partner, another machine in reality, and takes the timestamps) outrank the
  // worker, Temporal and PostgreSQL for CPU, as the production topology in the README recommends
  // for a shared host. BENCH_API_PRIORITY=0 measures with all processes equal.
  const apiPriority = Number(process.env.BENCH_API_PRIORITY ?? -10);
  if (apiPriority) {
    try {
      os.setPriority(api.pid!, apiPriority);
      os.setPriority(process.pid, apiPriority);
      progress(`the API and the load generator run at CPU priority ${apiPriority}`);
    } catch (err) {
      progress(`could not raise the API's CPU priority (${String(err)}); all processes are equal`);
    }
  }
  // The same kind of client as the API's (the native connection), so the floor is a like-for-like update.
  const temporal = await connectClient(stack.temporalAddress, stack.temporalNamespace);
  const connection = temporal.connection;
  const call: BenchPlatform['call'] = async (method, p, key, body, headers = {}) => {
    const res = await fetch(`${baseUrl}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const platform = await createApiKey(knex, null, 'platform', name);
  const stopChild = async (c: ChildProcess): Promise<void> => {
    if (c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  return {
    stack,
    knex,
    vault,
    temporal,
    taskQueue,
    baseUrl,
    platformKey: platform.key,
    call,
    pids: { worker: worker.pid!, api: api.pid! },
    metricsUrls: {
      worker: `http://127.0.0.1:${workerMetricsPort}/metrics`,
      temporal: stack.temporalMetricsUrl,
    },
    stop: async () => {
      await stopChild(api);
      await stopChild(worker);
      await connection.close();
      await knex.destroy();
      await stack.stop();
    },
  };
}

/** A tenant with `n` users, each with one active card of a large limit; returns the partner card ids. */
export async function benchTenant(
  p: BenchPlatform,
  slug: string,
  n: number,
  opts: { policy?: Record<string, unknown>; limit?: number } = {},
): Promise<{ tenant: any; cards: Array<{ id: string; partnerCardId: string }> }> {
  const limit = opts.limit ?? 1e12;
  const tenant = (
    await p.call('POST', '/admin/tenants', p.platformKey, {
      slug,
      name: slug,
      policy: {
        maxCardSpendLimit: 1e12,
        defaultSpendingLimits: [{ amount: limit, interval: 'all_time' }],
        ...opts.policy,
      },
    })
  ).body;
  if (!tenant.appKey) throw new Error(`tenant not created: ${JSON.stringify(tenant)}`);
  const cards: Array<{ id: string; partnerCardId: string }> = [];
  for (let i = 0; i < n; i++) {
    const user = (
      await p.call('POST', '/v1/users', tenant.appKey, {
        externalId: `u${i}`,
        name: 'Bench',
        region: 'US-CA',
      })
    ).body;
    const card = (
      await p.call(
        'POST',
        '/v1/cards',
        tenant.appKey,
        {
          userId: user.id,
          currency: 'USD',
          controls: { spendingLimits: [{ amount: limit, interval: 'all_time' }] },
        },
        { 'idempotency-key': `c${i}` },
      )
    ).body;
    if (!card.partnerCardId) throw new Error(`card not issued: ${JSON.stringify(card)}`);
    cards.push({ id: card.id, partnerCardId: card.partnerCardId });
  }
  return { tenant, cards };
}
