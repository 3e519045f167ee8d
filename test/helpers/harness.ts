import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/temporal/connection';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { configureKeepAlive, createApp } from '../../src/api/app';
import type { ReconciliationSettings } from '../../src/config';
import { createKnex, migrateLatest } from '../../src/db/knex';
import { createLogger } from '../../src/lib/logger';
import { newId } from '../../src/lib/ids';
import { createApiKey } from '../../src/tenants/api-keys';
import { Vault } from '../../src/vault/vault';
import { createWorker } from '../../src/worker/create-worker';
import { startOutboxRelay } from '../../src/webhooks/outbox';
import type { CardWorkflowConfig } from '../../src/temporal/card-client';
import { readStackInfo, type TestStackInfo } from '../setup/stack-file';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  key?: string;
  body?: unknown;
  /** Sent as-is (for malformed-body tests). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface Harness {
  stack: TestStackInfo;
  knex: Knex;
  temporal: Client;
  vault: Vault;
  taskQueue: string;
  baseUrl: string;
  platformKey: string;
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  /** Stops this harness's worker (card workflows then wait, as in a worker outage). */
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed in this process by another test file
  }
}

/** A fresh database on the test cluster; returns its URL. */
export async function createDatabase(sharedUrl: string): Promise<string> {
  const name = `vcn_${newId('card').slice(5)}`;
  const admin = createKnex(sharedUrl, { poolMax: 1 });
  await admin.raw('CREATE DATABASE ??', [name]);
  await admin.destroy();
  const url = new URL(sharedUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by `createDatabase`, closing whatever is still connected to it. */
export async function dropDatabase(sharedUrl: string, databaseUrl: string): Promise<void> {
  const admin = createKnex(sharedUrl, { poolMax: 1 });
  await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [new URL(databaseUrl).pathname.slice(1)]);
  await admin.destroy();
}

/**
 * Everything one integration test file needs against the real stack: knex on the test database,
 * a Temporal client, a worker on a task queue of its own (so test files never steal each other's
 * tasks), and the Koa app listening on an ephemeral port.
 */
export async function startHarness(
  opts: {
    worker?: boolean;
    maxHistoryEvents?: number;
    /** Holds lapse after this many milliseconds instead of the program's days. */
    holdExpiryMs?: number;
    /** How soon a card makes its own write of a decision the API wrote (default: the workflow's). */
    projectionFlushMs?: number;
    sweepIntervalMs?: number;
    temporalAddress?: string;
    /**
     * A database of its own: for a harness on its own Temporal server, whose outbox rows the other
     * test files' relays (on the shared server) must not hand off.
     */
    ownDatabase?: boolean;
    /** Manual reconciliation runs' settings (default: nothing left to settle, small pages). */
    reconciliation?: Partial<ReconciliationSettings>;
  } = {},
): Promise<Harness> {
  installQuietRuntime();
  const shared = readStackInfo();
  const stack = {
    ...shared,
    ...(opts.temporalAddress ? { temporalAddress: opts.temporalAddress } : {}),
    ...(opts.ownDatabase ? { databaseUrl: await createDatabase(shared.databaseUrl) } : {}),
  };
  const knex = createKnex(stack.databaseUrl, { poolMax: 30, applicationName: 'vcn-test' });
  if (opts.ownDatabase) await migrateLatest(knex);
  const vault = new Vault(stack.vaultKey);
  // The API's own kind of client (the native connection), as server.ts builds it.
  const temporal = await connectClient(stack.temporalAddress, stack.temporalNamespace);
  const connection = temporal.connection;
  const taskQueue = `test-${newId('card').slice(5)}`;
  const cards: CardWorkflowConfig = {
    taskQueue,
    maxHistoryEvents: opts.maxHistoryEvents,
    holdExpiryMs: opts.holdExpiryMs,
    projectionFlushMs: opts.projectionFlushMs,
  };
  // JSON lines to the run's log file only (the reveal test searches it for card numbers).
  const logger = createLogger({ name: 'test-api', level: 'info', file: stack.logFile, stdout: false });

  // Listen first, so the app knows its own URL (webhook URLs handed to the sandbox partner).
  const server = http.createServer();
  configureKeepAlive(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let workerConnection: { close(): Promise<void> } | undefined;
  const startWorker = async (): Promise<void> => {
    if (worker) return;
    const created = await createWorker({
      knex,
      vault,
      sandboxSecret: stack.vaultKey,
      temporal: { address: stack.temporalAddress, namespace: stack.temporalNamespace, taskQueue },
      workflowBundlePath: stack.workflowBundlePath,
      reconciliation: {
        client: temporal,
        publicUrl: () => baseUrl,
        cards,
      },
    });
    worker = created.worker;
    workerConnection = created.connection;
    workerRun = worker.run();
  };
  const stopWorker = async (): Promise<void> => {
    if (!worker) return;
    worker.shutdown();
    await workerRun;
    await workerConnection?.close();
    worker = undefined;
  };
  if (opts.worker !== false) await startWorker();

  const app = createApp({
    knex,
    temporal,
    vault,
    logger,
    cards,
    config: {
      publicUrl: baseUrl,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: stack.temporalNamespace,
      bodyLimitBytes: 1024 * 1024,
      sandboxEnabled: true,
      reconciliation: {
        settleMs: 0,
        pageSize: 50,
        slices: 3,
        // Every tenant made here gets its reconciliation schedule (POST /admin/tenants). At the
        // default hourly interval (epoch-aligned) it fired at the top of the hour inside whatever
        // test was running: CI once saw a healing run nobody asked for mid-test. A century apart,
        // the next run is in 2070.
        intervalMs: 100 * 365 * 86_400_000,
        ...opts.reconciliation,
      },
    },
  });
  server.on('request', app.callback());
  const relay = startOutboxRelay(
    {
      knex,
      vault,
      temporal,
      cards,
      log: logger,
    },
    opts.sweepIntervalMs ?? 200,
  );
  const platform = await createApiKey(knex, null, 'platform', 'test platform key');

  const request = async <T>(
    method: string,
    path: string,
    o: RequestOptions = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    let body: string | Buffer | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // leave as text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };

  return {
    stack,
    knex,
    temporal,
    vault,
    taskQueue,
    baseUrl,
    platformKey: platform.key,
    request,
    startWorker,
    stopWorker,
    stop: async () => {
      await relay.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopWorker();
      await connection.close();
      await knex.destroy();
      if (opts.ownDatabase) await dropDatabase(shared.databaseUrl, stack.databaseUrl);
    },
  };
}

/**
 * The setup every integration file shares: a harness started before the file's tests and
 * stopped after them. Returns an object filled in by `beforeAll` (empty until then), so a file
 * writes `const h = useHarness()` at the top and uses `h` in its tests and later hooks (hooks run
 * in the order they are declared: this one first).
 */
export function useHarness(opts: Parameters<typeof startHarness>[0] = {}): Harness {
  const harness = {} as Harness;
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(opts);
    Object.assign(harness, started);
  });
  afterAll(async () => {
    await started?.stop();
  });
  return harness;
}
