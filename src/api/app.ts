import Koa from 'koa';
import Router from '@koa/router';
import type { ApiDeps, AppState } from './context';
import { authenticate } from './middleware/auth';
import { bodyReader } from './middleware/body';
import { requestContext } from './middleware/request-context';
import { adminRouter } from './admin/router';
import { timelineRouter } from './admin/timeline';
import { reconciliationRouter } from './admin/reconciliation';
import { adminWebhooksRouter } from './admin/webhooks';
import { sandboxRouter } from './sandbox/router';
import { cardsRouter } from './cards/router';
import { healthRouter } from './health/router';
import { tenantsRouter } from './tenants/router';
import { usersRouter } from './users/router';
import { webhooksRouter } from './webhooks/router';

/** Builds the Koa app from its dependencies; only server.ts listens. */
export function createApp(deps: ApiDeps): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: false });
  app.use(requestContext(deps.logger));

  const open = healthRouter(deps);
  app.use(open.routes());

  app.use(bodyReader(deps.config.bodyLimitBytes, ['/webhooks/']));

  const hooks = webhooksRouter(deps);
  app.use(hooks.routes());

  // The sandbox partner's API authenticates on its own (it also takes the program's partner key).
  if (deps.config.sandboxEnabled) app.use(sandboxRouter(deps).routes());

  const authed = new Router<AppState>();
  authed.use(authenticate(deps.knex));
  for (const r of [
    tenantsRouter(deps),
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
