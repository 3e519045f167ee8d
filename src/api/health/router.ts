import Router from '@koa/router';
import type { ApiDeps, AppState } from '../context';
import { apiRegistry, bearerMatches, ensureDefaultMetrics } from '../../lib/metrics';

/**
 * Liveness (process up), readiness (PostgreSQL and Temporal reachable; which one is not, never
 * why) and the Prometheus metrics (behind `Authorization: Bearer <METRICS_TOKEN>` when a token is
 * configured).
 */
export function healthRouter(deps: ApiDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  const registry = ensureDefaultMetrics(apiRegistry);
  const token = deps.config.metricsToken;
  router.get('/metrics', async (ctx) => {
    if (token && !bearerMatches(ctx.get('authorization'), token)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: { code: 'UNAUTHENTICATED', message: 'the metrics need the metrics bearer token' } };
      return;
    }
    ctx.set('Content-Type', registry.contentType);
    ctx.body = await registry.metrics();
  });
  router.get('/readyz', async (ctx) => {
    const timeout = async <T>(p: Promise<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          p,
          new Promise<T>((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), 2000);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    };
    // Anyone may ask: the answer names the dependency that is down, the log says why.
    const check = async (name: string, fn: () => Promise<unknown>): Promise<'ok' | 'unavailable'> => {
      try {
        await timeout(fn());
        return 'ok';
      } catch (err) {
        ctx.state.log.warn({ dependency: name, err }, 'readiness check failed');
        return 'unavailable';
      }
    };
    const [postgres, temporal] = await Promise.all([
      check('postgres', () => deps.knex.raw('select 1')),
      check('temporal', () =>
        deps.temporal.connection.workflowService.describeNamespace({
          namespace: deps.config.temporalNamespace,
        }),
      ),
    ]);
    const ready = postgres === 'ok' && temporal === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks: { postgres, temporal } };
  });
  return router;
}
