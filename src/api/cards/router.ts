import Router from '@koa/router';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { DomainError } from '../../domain/errors';
import { derivedId } from '../../lib/ids';
import { Card, Transaction } from '../../db/models';
import { cardBalances } from '../../cards/balances';
import { cardStartOptions } from '../../temporal/card-client';
import { revealCardSecret } from '../../vault/card-vault';
import { changeStatusUpdate, issueUpdate, type IssueCardInput } from '../../workflows/messages';
import type { cardWorkflow } from '../../workflows/card-workflow';
import { CardStatusSA, TenantIdSA, UserIdSA } from '../../workflows/search-attributes';
import { tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { PaginationSchema } from '../schemas';
import { newestFirst } from '../pagination';
import { bodyOf, pathId, queryOf } from '../validate';
import { presentCard, presentTransaction } from './presenters';
import { CreateCardSchema, ListCardsQuery, StatusChangeSchema, type CreateCardBody } from './schema';

/** Loads a card of the caller's tenant; another tenant's card is 404, exactly like a missing one. */
export async function findCard(deps: ApiDeps, tenantId: string, id: string): Promise<Card> {
  const card = await Card.query(deps.knex).where({ tenantId, id }).first();
  if (!card) throw new DomainError('NOT_FOUND', 'card not found');
  return card;
}

export async function cardResponse(deps: ApiDeps, tenantId: string, id: string) {
  const card = await findCard(deps, tenantId, id);
  return presentCard(card, await cardBalances(deps.knex, card));
}

/**
 * Issues a card through its workflow (update-with-start): the workflow id derives from the
 * idempotency key, so a retried or concurrent request reaches the same workflow and the same
 * `issue` update, and gets the same outcome.
 */
export async function issueCard(
  deps: ApiDeps,
  tenantId: string,
  idempotencyKey: string,
  body: CreateCardBody,
  issuedBy: IssueCardInput['issuedBy'],
  reason?: string,
  extra: Pick<IssueCardInput, 'overrides' | 'actionId' | 'requestHash'> = {},
) {
  const user = await deps.knex('users').where({ tenantId, id: body.userId }).first();
  if (!user) throw new DomainError('NOT_FOUND', 'user not found');
  const cardId = derivedId('card', tenantId, idempotencyKey);
  const input: IssueCardInput = { tenantId, cardId, ...body, issuedBy, reason, ...extra };
  await deps.temporal.workflow.executeUpdateWithStart(issueUpdate, {
    args: [input],
    updateId: 'issue',
    startWorkflowOperation: new WithStartWorkflowOperation<typeof cardWorkflow>('cardWorkflow', {
      ...cardStartOptions(deps.cards, tenantId, cardId),
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: TenantIdSA, value: tenantId },
        { key: UserIdSA, value: body.userId },
        { key: CardStatusSA, value: 'pending' },
      ],
    }),
  });
  return cardResponse(deps, tenantId, cardId);
}

export function cardsRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();
  const app = requireRole('app');

  router.post('/v1/cards', app, idempotency(knex, { required: true }), async (ctx) => {
    const c = ctx as AppContext;
    const body = bodyOf(c, CreateCardSchema);
    ctx.body = await issueCard(
      deps,
      tenantOf(c),
      ctx.get('idempotency-key'),
      body,
      { type: 'app', id: ctx.state.auth!.keyId },
      undefined,
      { requestHash: ctx.state.requestHash },
    );
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
      const key = ctx.get('idempotency-key');
      await deps.temporal.workflow.getHandle(card.workflowId).executeUpdate(changeStatusUpdate, {
        args: [
          {
            transition,
            actor: { type: 'app', id: ctx.state.auth!.keyId },
            reason: body.reason,
            requestKey: key ? `app:${transition}:${key}` : undefined,
          },
        ],
        ...(key ? { updateId: `app:${transition}:${key}` } : {}),
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
    if (card.status !== 'active' && card.status !== 'frozen') {
      throw new DomainError('CARD_NOT_REVEALABLE', `a ${card.status} card cannot be revealed`);
    }
    const secret = await revealCardSecret(knex, deps.vault, tenantId, card.id);
    if (!secret) throw new DomainError('CARD_NOT_REVEALABLE', 'the card has no number yet');
    await knex('audit_events').insert({
      tenantId,
      actorType: ctx.state.auth!.role,
      actorId: ctx.state.auth!.keyId,
      action: 'card.reveal',
      subjectType: 'card',
      subjectId: card.id,
      requestId: ctx.state.requestId,
      details: JSON.stringify({
        last4: card.last4,
        ip: ctx.ip,
        userAgent: ctx.get('user-agent').slice(0, 200),
      }),
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { number: secret.number, cvc: secret.cvc, expMonth: card.expMonth, expYear: card.expYear };
  });

  return router;
}
