import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every environment variable the platform reads, parsed in one place; bad values fail fast. */
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  PUBLIC_URL: z.string().url().optional(),
  DATABASE_URL: z.string().min(1),
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(20),
  TEMPORAL_ADDRESS: z.string().min(1),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('vcn-cards'),
  TEMPORAL_UI_URL: z.string().optional(),
  /** host:port where the worker serves the Temporal SDK's metrics for Prometheus (off when unset). */
  TEMPORAL_WORKER_METRICS_BIND: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, 'host:port')
    .optional(),
  /** host:port where the worker serves /healthz, /readyz and its own /metrics (off when unset). */
  WORKER_HEALTH_BIND: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, 'host:port')
    .optional(),
  /** When set, /metrics (API and worker) needs `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(16, 'at least 16 characters').optional(),
  ),
  VAULT_KEY: z.string().min(1),
  SANDBOX_ENABLED: bool.default(false),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  OUTBOX_SWEEP_INTERVAL_MS: z.coerce.number().int().min(20).default(100),
  RECONCILIATION_INTERVAL_MS: z.coerce.number().int().min(10_000).default(3_600_000),
  RECONCILIATION_LOOKBACK_DAYS: z.coerce.number().positive().default(35),
  RECONCILIATION_SETTLE_MS: z.coerce.number().int().min(0).default(60_000),
  RECONCILIATION_SLICES: z.coerce.number().int().min(1).max(16).default(4),
  RECONCILIATION_PAGE_SIZE: z.coerce.number().int().min(10).max(5000).default(1000),
  RECONCILIATION_AUTO_HEAL: bool.default(true),
});

export type Env = z.infer<typeof EnvSchema>;

export interface AppConfig {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string;
  databasePoolMax: number;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    workerMetricsBind?: string;
  };
  /** host:port of the worker's health and metrics server (off when unset). */
  workerHealthBind?: string;
  /** Bearer token for /metrics; unset: open. */
  metricsToken?: string;
  vaultKey: string;
  sandboxEnabled: boolean;
  bodyLimitBytes: number;
  outboxSweepIntervalMs: number;
  reconciliation: ReconciliationSettings;
}

/** How reconciliation runs (README: "Reconciliation"). */
export interface ReconciliationSettings {
  /** The schedule's interval. */
  intervalMs: number;
  /** A run without `from` compares transactions that began this long before its end. */
  lookbackMs: number;
  /** Changes younger than this at a run's cutoff wait for the next run (their webhooks may be in flight). */
  settleMs: number;
  slices: number;
  pageSize: number;
  autoHeal: boolean;
}

export const DEFAULT_RECONCILIATION: ReconciliationSettings = {
  intervalMs: 3_600_000,
  lookbackMs: 35 * 86_400_000,
  settleMs: 60_000,
  slices: 4,
  pageSize: 1000,
  autoHeal: true,
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL ?? '',
      workerMetricsBind: e.TEMPORAL_WORKER_METRICS_BIND,
    },
    workerHealthBind: e.WORKER_HEALTH_BIND,
    metricsToken: e.METRICS_TOKEN,
    vaultKey: e.VAULT_KEY,
    sandboxEnabled: e.SANDBOX_ENABLED,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    outboxSweepIntervalMs: e.OUTBOX_SWEEP_INTERVAL_MS,
    reconciliation: {
      intervalMs: e.RECONCILIATION_INTERVAL_MS,
      lookbackMs: Math.round(e.RECONCILIATION_LOOKBACK_DAYS * 86_400_000),
      settleMs: e.RECONCILIATION_SETTLE_MS,
      slices: e.RECONCILIATION_SLICES,
      pageSize: e.RECONCILIATION_PAGE_SIZE,
      autoHeal: e.RECONCILIATION_AUTO_HEAL,
    },
  };
}
