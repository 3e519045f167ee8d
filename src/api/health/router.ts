import Router from '@koa/router';
import type { ApiDeps, AppState } from '../context';

/** Liveness (process up) and readiness (PostgreSQL and Temporal reachable). */
export function healthRouter(deps: ApiDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
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
    const check = async (fn: () => Promise<unknown>): Promise<'ok' | string> => {
      try {
        await timeout(fn());
        return 'ok';
      } catch (err) {
        return `unavailable: ${(err as Error).message}`;
      }
    };
    const [postgres, temporal] = await Promise.all([
      check(() => deps.knex.raw('select 1')),
      check(() =>
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
