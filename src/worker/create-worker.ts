import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import { createCardActivities } from '../activities/card-activities';
import { createUserActivities } from '../activities/user-activities';
import { createReconciliationActivities } from '../activities/reconciliation-activities';
import type { PartnerRegistry } from '../partners/adapter';
import { createPartnerRegistry } from '../partners/registry';
import type { CardWorkflowConfig } from '../temporal/card-client';
import { temporalConnectionOptions } from '../temporal/connection';
import type { Vault } from '../vault/vault';

export interface WorkerDeps {
  knex: Knex;
  vault: Vault;
  /** Secret the sandbox partner derives test card numbers from (see `createPartnerRegistry`). */
  sandboxSecret: string;
  /** The partners (default: `createPartnerRegistry`, as the API builds it). */
  partners?: PartnerRegistry;
  temporal: { address: string; namespace: string; taskQueue: string };
  /**
   * For reconciliation: a Temporal client (healing signals card workflows), the platform's URL
   * (where the sandbox partner's listings are served) and how card workflows are started.
   */
  reconciliation?: {
    client: Client;
    publicUrl: () => string;
    cards: CardWorkflowConfig;
  };
  /**
   * A prebuilt workflow bundle (tests build one and share it). Default: `defaultWorkflowBundlePath`
   * when that file exists (the image builds it), otherwise the workflows are bundled at start.
   */
  workflowBundlePath?: string;
  options?: Partial<WorkerOptions>;
}

export const workflowsPath = require.resolve('../workflows');

/**
 * Where `npm run build` writes the workflow bundle: dist/workflow-bundle.js beside the compiled
 * code (from dist/src/worker). Run from the TypeScript sources, this path is outside dist/ and
 * does not exist, so a bundle built from older code is never picked up.
 */
export const defaultWorkflowBundlePath = path.resolve(__dirname, '..', '..', 'workflow-bundle.js');

function workflowCode(explicit: string | undefined): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle =
    explicit ?? (fs.existsSync(defaultWorkflowBundlePath) ? defaultWorkflowBundlePath : undefined);
  return bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath };
}

export async function createWorker(
  deps: WorkerDeps,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect(temporalConnectionOptions(deps.temporal.address));
  const partners =
    deps.partners ??
    createPartnerRegistry({
      knex: deps.knex,
      vault: deps.vault,
      sandboxSecret: deps.sandboxSecret,
      publicUrl:
        deps.reconciliation?.publicUrl ??
        (() => {
          throw new Error('this worker was given no platform URL (reconciliation is off)');
        }),
    });
  const activities = {
    ...createCardActivities({ knex: deps.knex, vault: deps.vault, partners }),
    ...createUserActivities({ knex: deps.knex }),
    ...(deps.reconciliation
      ? createReconciliationActivities({
          knex: deps.knex,
          vault: deps.vault,
          partners,
          temporal: deps.reconciliation.client,
          cards: deps.reconciliation.cards,
        })
      : {}),
  };
  const worker = await Worker.create({
    connection,
    namespace: deps.temporal.namespace,
    taskQueue: deps.temporal.taskQueue,
    ...workflowCode(deps.workflowBundlePath),
    activities,
    // Workflow activations of different cards run on two threads: one card's long activation
    // (a continue-as-new, a replay after eviction) does not hold every other card's decision.
    workflowThreadPoolSize: Number(process.env.WORKFLOW_THREADS ?? 2),
    ...deps.options,
  });
  return { worker, connection };
}

const FINE_LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const FINE_LATENCY_METRICS = [
  'workflow_task_schedule_to_start_latency',
  'workflow_task_execution_latency',
  'workflow_task_replay_latency',
  'local_activity_execution_latency',
  'local_activity_succeed_endtoend_latency',
  'activity_execution_latency',
  'request_latency',
];

/**
 * Routes the Temporal SDK's own logs (worker state, workflow `log`, bundler) into our JSON-lines
 * logger, and, given an address, serves the SDK's worker metrics (task latencies, sticky cache,
 * slots) for Prometheus at `http://<address>/metrics`. Call once, before the first connection.
 */
export function installTemporalLogging(
  logger: Logger,
  level: LogLevel = 'INFO',
  opts: { metricsBindAddress?: string } = {},
): void {
  const log = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    ...(opts.metricsBindAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: opts.metricsBindAddress,
                // Milliseconds fine enough to see an authorization's budget (the SDK's default
                // buckets start at 100 ms).
                histogramBucketOverrides: Object.fromEntries(
                  FINE_LATENCY_METRICS.map((m) => [m, FINE_LATENCY_BUCKETS_MS]),
                ),
              },
            },
          },
        }
      : {}),
    logger: new DefaultLogger(level, (entry) => {
      const method =
        entry.level === 'ERROR'
          ? 'error'
          : entry.level === 'WARN'
            ? 'warn'
            : entry.level === 'INFO'
              ? 'info'
              : 'debug';
      log[method](entry.meta ?? {}, entry.message);
    }),
  });
}
