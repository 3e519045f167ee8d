import Router from '@koa/router';
import { receiveDelivery, type ReceiveTiming } from '../../webhooks/receive';
import type { ApiDeps, AppState } from '../context';
import { closeAfterAnswer } from '../middleware/request-context';

const SUBSCRIPTION_ID = /^psub_[0-9a-z]{1,64}$/;
const PARTNER = /^[a-z][a-z0-9-]{1,30}$/;

/** The dependencies the webhook commands need, with this request's logger. */
export const webhookDeps = (deps: ApiDeps, log: AppState['log']) => ({
  knex: deps.knex,
  vault: deps.vault,
  temporal: deps.temporal,
  cards: deps.cards,
  partners: deps.partners,
  log,
});

/** Partner webhooks: authenticated by signature, not API key. */
export function webhooksRouter(deps: ApiDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.post('/webhooks/:partner/:subscriptionId', async (ctx) => {
    const receivedAtMs = Date.now();
    const { partner, subscriptionId } = ctx.params as { partner: string; subscriptionId: string };
    if (!PARTNER.test(partner) || !SUBSCRIPTION_ID.test(subscriptionId)) {
      if (ctx.state.bodyOverflow) closeAfterAnswer(ctx);
      ctx.status = 404;
      ctx.body = { error: { code: 'NOT_FOUND', message: 'no such webhook subscription' } };
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.headers)) if (typeof v === 'string') headers[k] = v;
    const timing: ReceiveTiming = {};
    const answer = await receiveDelivery(
      webhookDeps(deps, ctx.state.log),
      {
        partner,
        subscriptionId,
        headers,
        rawBody: ctx.state.rawBody ?? Buffer.alloc(0),
        requestId: ctx.state.requestId,
        receivedAtMs,
        ...(ctx.state.bodyOverflow ? { oversize: ctx.state.bodyOverflow } : {}),
      },
      timing,
    );
    ctx.status = answer.status;
    // (What the partner sent past the limit may still be unread: the connection goes.)
    if (answer.status === 413 || ctx.state.bodyOverflow) closeAfterAnswer(ctx);
    if (answer.headers) ctx.set(answer.headers);
    ctx.body = answer.body;
    // Where the time went (standard Server-Timing): storing the delivery, then the decision (the
    // card's answer, and the API's write of it).
    const parts: Array<[string, number | undefined]> = [
      ['ingest', timing.ingest],
      ['decide', timing.decide],
      ['card', timing.card],
      ['write', timing.write],
    ];
    ctx.set(
      'server-timing',
      parts
        .filter(([, ms]) => ms !== undefined)
        .map(([name, ms]) => `${name};dur=${ms!.toFixed(1)}`)
        .join(', '),
    );
  });
  return router;
}
