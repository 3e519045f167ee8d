/**
 * Prometheus metrics (prom-client). One registry per process role: the API's and the worker's
 * (both run in one process in the tests, and each serves only its own). Metrics are module-level
 * singletons so the code that counts needs no new dependency passed to it; recording is a counter
 * increment or a histogram observation, never an await.
 *
 * Labels stay low-cardinality: route templates (never raw paths), status classes, partner names
 * from the registry, outcomes and decline codes from fixed lists. No card, tenant or key ids.
 */
import crypto from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DECLINE_CODES } from '../domain/authorization';

export const apiRegistry = new Registry();
export const workerRegistry = new Registry();

const withDefaults = new WeakSet<Registry>();
/** Adds the process's default metrics (CPU, memory, event loop, GC) to `registry`, once. */
export function ensureDefaultMetrics(registry: Registry): Registry {
  if (!withDefaults.has(registry)) {
    withDefaults.add(registry);
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** Seconds; from sub-millisecond reads to the slowest admin calls. */
const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Authorization answers are due within a program deadline of a few hundred ms to a few seconds. */
const AUTH_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];

export const apiMetrics = {
  httpDuration: new Histogram({
    name: 'vcn_http_request_duration_seconds',
    help: 'HTTP requests by route template, method and status class (its _count is the request count)',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: LATENCY_BUCKETS_S,
    registers: [apiRegistry],
  }),
  webhookDeliveries: new Counter({
    name: 'vcn_webhook_deliveries_total',
    help: "Partner webhook deliveries received, by partner and outcome (operators' replays not counted)",
    labelNames: ['partner', 'outcome'] as const,
    registers: [apiRegistry],
  }),
  authorizations: new Counter({
    name: 'vcn_authorization_decisions_total',
    help: 'Synchronous authorization answers, by result (approved, declined, stand_in) and decline code',
    labelNames: ['result', 'decline_code'] as const,
    registers: [apiRegistry],
  }),
  authorizationDuration: new Histogram({
    name: 'vcn_authorization_duration_seconds',
    help: 'Time to decide a synchronous authorization (after the delivery is stored), by result',
    labelNames: ['result'] as const,
    buckets: AUTH_BUCKETS_S,
    registers: [apiRegistry],
  }),
  idempotencyReplays: new Counter({
    name: 'vcn_idempotency_replays_total',
    help: 'Requests answered with the stored response of an earlier one with the same Idempotency-Key',
    labelNames: ['route'] as const,
    registers: [apiRegistry],
  }),
};

/** When the outbox relay last finished a pass (epoch ms; null: none yet in this process). */
let lastRelayPassAt: number | null = null;

export const workerMetrics = {
  outboxRows: new Counter({
    name: 'vcn_outbox_rows_total',
    help: 'Outbox rows processed by the relay: handed_off to their card workflow, failed (retried later), unparked',
    labelNames: ['result'] as const,
    registers: [workerRegistry],
  }),
  outboxPassDuration: new Histogram({
    name: 'vcn_outbox_pass_duration_seconds',
    help: 'Duration of one outbox relay pass (claim and hand off every due row)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [workerRegistry],
  }),
  outboxSweepLag: new Gauge({
    name: 'vcn_outbox_sweep_lag_seconds',
    help: 'Seconds since the outbox relay last finished a pass (grows when the relay stalls)',
    registers: [workerRegistry],
    collect() {
      if (lastRelayPassAt !== null) this.set((Date.now() - lastRelayPassAt) / 1000);
    },
  }),
};

/** Records one finished relay pass. */
export function recordRelayPass(
  r: { handedOff: number; failed: number; unparked: number },
  durationS: number,
): void {
  if (r.handedOff) workerMetrics.outboxRows.inc({ result: 'handed_off' }, r.handedOff);
  if (r.failed) workerMetrics.outboxRows.inc({ result: 'failed' }, r.failed);
  if (r.unparked) workerMetrics.outboxRows.inc({ result: 'unparked' }, r.unparked);
  workerMetrics.outboxPassDuration.observe(durationS);
  lastRelayPassAt = Date.now();
}

/** The one label for requests no route matched (any unknown path). */
export const UNMATCHED_ROUTE = '(unmatched)';

/** A @koa/router layer as seen on `ctx.matched`. */
export interface MatchedLayer {
  path: string | RegExp;
  methods: string[];
}

/**
 * The route template a request matched (`/v1/cards/:id`), from the router layers on `ctx.matched`:
 * the last one that is a route for this method (HEAD counts as GET), else the last route for the
 * path (a 405), else UNMATCHED_ROUTE. Middleware layers (`router.use`) have no methods and are
 * skipped, so a request refused by an auth middleware is still labelled with its route.
 */
export function routeLabel(matched: readonly MatchedLayer[] | undefined, method: string): string {
  if (!matched?.length) return UNMATCHED_ROUTE;
  const routes = matched.filter((l) => l.methods.length > 0 && typeof l.path === 'string');
  const m = method.toUpperCase();
  const forMethod = routes.filter(
    (l) => l.methods.includes(m) || (m === 'HEAD' && l.methods.includes('GET')),
  );
  const chosen = forMethod.at(-1) ?? routes.at(-1);
  return chosen ? (chosen.path as string) : UNMATCHED_ROUTE;
}

/** '2xx', '4xx', …: the label for an HTTP status. */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/** Declined answers' codes as labels: the platform's own codes, anything else as 'other'. */
const KNOWN_DECLINES = new Set<string>(DECLINE_CODES);
export const declineLabel = (code: string | undefined | null): string =>
  code ? (KNOWN_DECLINES.has(code) ? code : 'other') : '';

/**
 * Whether an Authorization header carries `Bearer <token>`; compared in constant time (both sides
 * hashed first, so neither the token's length nor its prefix shows in the timing).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const given = crypto
    .createHash('sha256')
    .update(m?.[1] ?? '')
    .digest();
  const want = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(given, want) && m !== null;
}
