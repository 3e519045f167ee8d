import Router from '@koa/router';
import { ingestDelivery } from '../../services/webhooks';
import type { ApiDeps, AppState } from '../context';
import { authorizeWithDeadline } from './authorize';

const SUBSCRIPTION_ID = /^psub_[0-9a-z]{1,64}$/;
const PARTNER = /^[a-z][a-z0-9-]{1,30}$/;

/** Partner webhooks: authenticated by signature, not API key. */
export function webhooksRouter(deps: ApiDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.post('/webhooks/:partner/:subscriptionId', async (ctx) => {
    const receivedAtMs = Date.now();
    const { partner, subscriptionId } = ctx.params as { partner: string; subscriptionId: string };
    if (!PARTNER.test(partner) || !SUBSCRIPTION_ID.test(subscriptionId)) {
      ctx.status = 404;
      ctx.body = { error: { code: 'NOT_FOUND', message: 'no such webhook subscription' } };
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.headers)) if (typeof v === 'string') headers[k] = v;
    const wh = {
      knex: deps.knex,
      vault: deps.vault,
      temporal: deps.temporal,
      cards: deps.cards,
      log: ctx.state.log,
    };
    const result = await ingestDelivery(wh, {
      partner,
      subscriptionId,
      headers,
      rawBody: ctx.state.rawBody ?? Buffer.alloc(0),
      requestId: ctx.state.requestId,
    });
    ctx.status = result.status;
    ctx.body = result.sync
      ? { ...result.body, ...(await authorizeWithDeadline(wh, { ...result.sync, receivedAtMs })) }
      : result.body;
  });
  return router;
}
