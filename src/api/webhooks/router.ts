import Router from '@koa/router';
import { ingestDelivery } from '../../webhooks/ingest';
import type { ApiDeps, AppState } from '../context';
import { authorizeWithDeadline } from '../../webhooks/authorize';

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
    const t0 = performance.now();
    const result = await ingestDelivery(wh, {
      partner,
      subscriptionId,
      headers,
      rawBody: ctx.state.rawBody ?? Buffer.alloc(0),
      requestId: ctx.state.requestId,
    });
    const t1 = performance.now();
    const split: { card?: number; write?: number } = {};
    ctx.status = result.status;
    ctx.body = result.sync
      ? { ...result.body, ...(await authorizeWithDeadline(wh, { ...result.sync, receivedAtMs }, split)) }
      : result.body;
    // Where the time went (standard Server-Timing): storing the delivery, then the decision (the
    // card's answer, and the API's write of it).
    const timing = [`ingest;dur=${(t1 - t0).toFixed(1)}`];
    if (result.sync) timing.push(`decide;dur=${(performance.now() - t1).toFixed(1)}`);
    if (split.card !== undefined) timing.push(`card;dur=${split.card.toFixed(1)}`);
    if (split.write !== undefined) timing.push(`write;dur=${split.write.toFixed(1)}`);
    ctx.set('server-timing', timing.join(', '));
  });
  return router;
}
