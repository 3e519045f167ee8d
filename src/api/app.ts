import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import type { ApiDeps, AppState } from './context';
import { authenticate } from './middleware/auth';
import { bodyReader } from './middleware/body';
import { refuseNulInPath, requestContext } from './middleware/request-context';
import { httpMetrics } from './middleware/metrics';
import { adminRouter } from './admin/router';
import { timelineRouter } from './admin/timeline';
import { reconciliationRouter } from './admin/reconciliation';
import { adminWebhooksRouter } from './admin/webhooks';
import { partnerApiRouters } from '../partners/apis';
import { createPartnerRegistry } from '../partners/registry';
import type { PartnerRegistry } from '../partners/adapter';
import { consoleRouter } from './console/router';
import { cardsRouter } from './cards/router';
import { healthRouter } from './health/router';
import { apiKeysRouter } from './keys/router';
import { tenantsRouter } from './tenants/router';
import { usersRouter } from './users/router';
import { webhooksRouter } from './webhooks/router';

/**
 * Keep-alive settings for the HTTP server in front of the app. A partner's client (or a load
 * balancer) reuses idle connections; Node's default closes them after 5 s, so a request sent on a
 * connection just as the server closes it fails with ECONNRESET (seen in the test suite). The
 * server keeps idle connections longer than the usual client and load-balancer idle timeouts.
 */
export function configureKeepAlive(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000; // must exceed keepAliveTimeout
}

/**
 * Builds the Koa app from its dependencies; only server.ts listens. Without a partner registry it
 * builds its own (`createPartnerRegistry`, as the worker does), for an API that creates no cards.
 */
export function createApp(input: Omit<ApiDeps, 'partners'> & { partners?: PartnerRegistry }): Koa<AppState> {
  const deps: ApiDeps = {
    ...input,
    partners:
      input.partners ??
      createPartnerRegistry({
        knex: input.knex,
        vault: input.vault,
        publicUrl: () => input.config.publicUrl,
      }),
  };
  const app = new Koa<AppState>({ proxy: false });
  app.use(httpMetrics());
  app.use(requestContext(deps.logger));
  app.use(refuseNulInPath);

  const open = healthRouter(deps);
  app.use(open.routes());

  app.use(bodyReader(deps.config.bodyLimitBytes, ['/webhooks/']));

  const hooks = webhooksRouter(deps);
  app.use(hooks.routes());

  // Partners' own APIs served here (the sandbox's, when enabled) authenticate on their own.
  for (const r of partnerApiRouters(deps)) app.use(r.routes());

  // The operators' console and the reads it adds (each authenticates itself), ahead of /admin/cards/:id.
  app.use(consoleRouter(deps).routes());

  const authed = new Router<AppState>();
  authed.use(authenticate(deps.knex));
  for (const r of [
    tenantsRouter(deps),
    apiKeysRouter(deps),
    usersRouter(deps),
    cardsRouter(deps),
    adminRouter(deps),
    adminWebhooksRouter(deps),
    timelineRouter(deps),
    reconciliationRouter(deps),
  ]) {
    authed.use(r.routes());
  }
  app.use(authed.routes());
  app.use(authed.allowedMethods());
  return app;
}
