import type Koa from 'koa';
import type { AppState } from '../context';
import { apiMetrics, routeLabel, statusClass } from '../../lib/metrics';

/**
 * Outermost middleware: one observation per request in the HTTP duration histogram, labelled with
 * the route template @koa/router matched (unknown paths share one label), the method and the
 * status class. Runs outside the request context, so the status is the final one (errors already
 * turned into responses).
 */
export function httpMetrics(): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      // Methods outside the standard set would be a label per invented verb.
      const method = STANDARD_METHODS.has(ctx.method) ? ctx.method : 'OTHER';
      apiMetrics.httpDuration.observe(
        { method, route: routeLabel(ctx.matched, ctx.method), status_class: statusClass(ctx.status) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  };
}

const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
