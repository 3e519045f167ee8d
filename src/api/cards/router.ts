import Router from '@koa/router';
import { Card, Transaction } from '../../db/models';
import { cardBalances } from '../../cards/balances';
import { changeCardStatus, revealCard } from '../../cards/commands';
import { findCard as findTenantCard } from '../../cards/queries';
import { issueCard } from '../../issuance/issue-card';
import { tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { PaginationSchema } from '../schemas';
import { newestFirst } from '../pagination';
import { bodyOf, pathId, queryOf } from '../validate';
import { presentCard, presentTransaction } from './presenters';
import { CreateCardSchema, ListCardsQuery, StatusChangeSchema } from './schema';

/** Loads a card of the caller's tenant; another tenant's card is 404, exactly like a missing one. */
export const findCard = (deps: ApiDeps, tenantId: string, id: string): Promise<Card> =>
  findTenantCard(deps.knex, tenantId, id);

export async function cardResponse(deps: ApiDeps, tenantId: string, id: string) {
  const card = await findCard(deps, tenantId, id);
  return presentCard(card, await cardBalances(deps.knex, card));
}

export function cardsRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();
  const app = requireRole('app');

  router.post('/v1/cards', app, idempotency(knex, { required: true }), async (ctx) => {
    const c = ctx as AppContext;
    const request = bodyOf(c, CreateCardSchema);
    const { cardId } = await issueCard(deps, {
      tenantId: tenantOf(c),
      idempotencyKey: ctx.get('idempotency-key'),
      request,
      issuedBy: { type: 'app', id: ctx.state.auth!.keyId },
      requestHash: ctx.state.requestHash,
    });
    ctx.body = await cardResponse(deps, tenantOf(c), cardId);
    ctx.status = 201;
  });

  router.get('/v1/cards', app, async (ctx) => {
    const c = ctx as AppContext;
    const q = queryOf(c, ListCardsQuery);
    const query = Card.query(knex).where({ tenantId: tenantOf(c) });
    if (q.userId) query.where({ userId: q.userId });
    if (q.status) query.where({ status: q.status });
    const { rows: page, nextCursor } = await newestFirst(query, q);
    const data = await Promise.all(
      page.map(async (card) => presentCard(card, await cardBalances(knex, card))),
    );
    ctx.body = {
      data,
      nextCursor,
    };
  });

  router.get('/v1/cards/:id', app, async (ctx) => {
    ctx.body = await cardResponse(deps, tenantOf(ctx as AppContext), pathId(ctx as AppContext));
  });

  for (const transition of ['freeze', 'unfreeze', 'cancel'] as const) {
    router.post(`/v1/cards/:id/${transition}`, app, idempotency(knex), async (ctx) => {
      const c = ctx as AppContext;
      const tenantId = tenantOf(c);
      const body = bodyOf(c, StatusChangeSchema);
      const card = await findCard(deps, tenantId, pathId(ctx as AppContext));
      await changeCardStatus(deps.temporal, card, {
        transition,
        actor: { type: 'app', id: ctx.state.auth!.keyId },
        reason: body.reason,
        idempotencyKey: ctx.get('idempotency-key') || undefined,
      });
      ctx.body = await cardResponse(deps, tenantId, card.id);
    });
  }

  router.get('/v1/cards/:id/transactions', app, async (ctx) => {
    const c = ctx as AppContext;
    const tenantId = tenantOf(c);
    const card = await findCard(deps, tenantId, pathId(c));
    const q = queryOf(c, PaginationSchema);
    const query = Transaction.query(knex).where({ tenantId, cardId: card.id });
    const { rows: page, nextCursor } = await newestFirst(query, q);
    ctx.body = {
      data: page.map(presentTransaction),
      nextCursor,
    };
  });

  router.post('/v1/cards/:id/reveal', app, async (ctx) => {
    const c = ctx as AppContext;
    const tenantId = tenantOf(c);
    const card = await findCard(deps, tenantId, pathId(ctx as AppContext));
    const secret = await revealCard(deps, card, {
      actorType: ctx.state.auth!.role,
      actorId: ctx.state.auth!.keyId,
      requestId: ctx.state.requestId,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent'),
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { number: secret.number, cvc: secret.cvc, expMonth: card.expMonth, expYear: card.expYear };
  });

  return router;
}
