import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { bearerMatches, ensureDefaultMetrics, workerRegistry } from '../lib/metrics';
import { watchOutboxBacklog } from '../webhooks/outbox-metrics';

/** Worker states (`Worker.getState()`) in which the process is alive and doing its job or draining. */
const ALIVE = new Set(['RUNNING', 'STOPPING', 'DRAINING', 'DRAINED']);
const CHECK_TIMEOUT_MS = 2000;

export interface WorkerHealthDeps {
  /** The worker's state (`worker.getState()`). */
  state: () => string;
  knex: Knex;
  /** A cheap call to the Temporal server (e.g. describeNamespace); rejects when it is unreachable. */
  temporalCheck: () => Promise<unknown>;
  /** When set, /metrics needs `Authorization: Bearer <this>`. */
  metricsToken?: string;
  log: Logger;
}

/** Whether `p` settles in time: 'ok', or 'unavailable' (the error's text stays out of the answer). */
async function check(p: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The worker's own HTTP server for orchestrators and Prometheus: `/healthz` (the worker is running
 * or draining), `/readyz` (running, PostgreSQL and Temporal reachable; says which is down) and
 * `/metrics` (the outbox relay's and the process's; the Temporal SDK's own are served apart, at
 * TEMPORAL_WORKER_METRICS_BIND). Listens on `host:port`; `close()` stops it.
 */
export async function startWorkerHealthServer(
  deps: WorkerHealthDeps,
  bind: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const registry = ensureDefaultMetrics(workerRegistry);
  watchOutboxBacklog(deps.knex);
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed` } });
      return;
    }
    if (path === '/healthz') {
      const state = deps.state();
      json(res, ALIVE.has(state) ? 200 : 503, { status: ALIVE.has(state) ? 'ok' : 'down', worker: state });
    } else if (path === '/readyz') {
      const state = deps.state();
      const [postgres, temporal] = await Promise.all([
        check(() => deps.knex.raw('select 1')),
        check(deps.temporalCheck),
      ]);
      const worker = state === 'RUNNING' ? 'ok' : state.toLowerCase();
      const ready = worker === 'ok' && postgres === 'ok' && temporal === 'ok';
      json(res, ready ? 200 : 503, {
        status: ready ? 'ready' : 'not_ready',
        checks: { worker, postgres, temporal },
      });
    } else if (path === '/metrics') {
      if (deps.metricsToken && !bearerMatches(req.headers.authorization, deps.metricsToken)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        json(res, 401, {
          error: { code: 'UNAUTHENTICATED', message: 'the metrics need the metrics bearer token' },
        });
        return;
      }
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    } else {
      json(res, 404, { error: { code: 'ROUTE_NOT_FOUND', message: `no route for ${path}` } });
    }
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      deps.log.error({ err: String(err) }, 'worker health server failed');
      if (!res.headersSent) json(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
      else res.destroy();
    });
  });
  const at = bind.lastIndexOf(':');
  const host = bind.slice(0, at);
  const port = Number(bind.slice(at + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
