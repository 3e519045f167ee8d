import crypto from 'node:crypto';
import Router from '@koa/router';
import { z } from 'zod';
import { DomainError } from '../../domain/errors';
import { deliverSandboxEvent, sandboxEvent } from './deliver';
import { MerchantSchema } from './normalize';
import { tenantOf, type ApiDeps, type AppContext, type AppState } from '../../api/context';
import { authenticate, requireRole } from '../../api/middleware/auth';
import { SANDBOX_MAX_PAGE, programOfSandboxKey } from './listing';
import {
  Currency,
  decodeCursorParts,
  encodeCursorParts,
  IsoDateTime,
  PaginationSchema,
  PositiveMinorUnits,
} from '../../api/schemas';
import { bodyOf, queryOf } from '../../api/validate';

const Merchant = MerchantSchema.strict();

const TransactionBody = z.strictObject({
  cardId: z.string().min(1).max(100),
  type: z.enum(['authorization', 'clearing', 'reversal', 'refund', 'expiry']),
  transactionId: z.string().min(1).max(100).optional(),
  amount: PositiveMinorUnits.optional(),
  currency: Currency.optional(),
  merchant: Merchant.optional(),
  silent: z.boolean().optional(),
  /** Book it and return the event without sending it: the caller delivers it (the simulator's chaos). */
  defer: z.boolean().optional(),
  chaos: z.strictObject({ duplicates: z.number().int().min(0).max(10).optional() }).optional(),
});

const StatusBody = z.strictObject({
  status: z.enum(['active', 'frozen', 'canceled']),
  silent: z.boolean().optional(),
  defer: z.boolean().optional(),
  reason: z.string().max(500).optional(),
});

/** The partner's listings serve larger pages than the platform's own API (reconciliation reads millions). */
const ListingPage = PaginationSchema.extend({
  limit: z.coerce.number().int().min(1).max(SANDBOX_MAX_PAGE).default(100),
});

const cursorOf = (at: Date, id: string) => encodeCursorParts(at, id);
const parseCursor = (c: string): [Date, string] | null => {
  const parts = decodeCursorParts(c, 1);
  return parts ? [parts[0], parts[1][0]!] : null;
};

const EVENT_FOR = {
  authorization: 'authorization.request',
  clearing: 'transaction.cleared',
  reversal: 'authorization.reversed',
  refund: 'transaction.refunded',
  expiry: 'authorization.expired',
} as const;

/**
 * The sandbox partner's own API (development and tests): its books as paginated listings, and
 * partner-side changes that it announces by signed webhook unless `silent` (drift for
 * reconciliation to find). Authenticated with the program's operator key.
 */
export function sandboxRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>({ prefix: '/sandbox/v1' });
  // The partner's own API: the program's sandbox key (what the reconciliation adapter uses, as a
  // platform holds a key per account at a real partner) or the tenant's operator key.
  const apiKeys = authenticate(knex);
  router.use(async (ctx, next) => {
    const bearer = /^Bearer\s+(sbk\.\S+)$/i.exec(ctx.get('authorization'))?.[1];
    if (!bearer) return apiKeys(ctx, next);
    const programId = programOfSandboxKey(deps.vault, bearer);
    if (!programId) throw new DomainError('UNAUTHENTICATED', 'the sandbox key is not valid');
    ctx.state.auth = {
      keyId: 'sandbox-program-key',
      tenantId: programId,
      role: 'operator',
      principal: 'sandbox-partner',
    };
    return next();
  });
  const operator = requireRole('operator');
  const send = (programId: string, type: string, data: Record<string, unknown>, duplicates?: number) =>
    deliverSandboxEvent(
      { knex, vault: deps.vault, publicUrl: deps.config.publicUrl },
      programId,
      type,
      data,
      { duplicates },
    );

  router.get('/cards', operator, async (ctx) => {
    const c = ctx as AppContext;
    const q = queryOf(c, ListingPage);
    const query = knex('sandbox.cards').where({ programId: tenantOf(c) });
    if (q.cursor) {
      const after = parseCursor(q.cursor);
      if (!after) throw new DomainError('VALIDATION_FAILED', 'invalid cursor');
      query.whereRaw('(created_at, id) > (?, ?)', after);
    }
    const rows = await query.orderBy([{ column: 'createdAt' }, { column: 'id' }]).limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    ctx.body = {
      data: page.map((r) => ({
        id: r.id,
        platformCardRef: r.platformCardRef,
        last4: r.last4,
        expMonth: r.expMonth,
        expYear: r.expYear,
        status: r.status,
        createdAt: new Date(r.createdAt).toISOString(),
        updatedAt: new Date(r.updatedAt).toISOString(),
      })),
      nextCursor: rows.length > q.limit && last ? cursorOf(new Date(last.createdAt), last.id) : null,
    };
  });

  router.get('/transactions', operator, async (ctx) => {
    const c = ctx as AppContext;
    const q = queryOf(c, ListingPage.extend({ from: IsoDateTime.optional(), to: IsoDateTime.optional() }));
    const query = knex('sandbox.transactions').where({ programId: tenantOf(c) });
    if (q.from) query.where('occurredAt', '>=', new Date(q.from));
    if (q.to) query.where('occurredAt', '<', new Date(q.to));
    if (q.cursor) {
      const after = parseCursor(q.cursor);
      if (!after) throw new DomainError('VALIDATION_FAILED', 'invalid cursor');
      query.whereRaw('(occurred_at, id) > (?, ?)', after);
    }
    const rows = await query.orderBy([{ column: 'occurredAt' }, { column: 'id' }]).limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    ctx.body = {
      data: page.map((r) => ({
        id: r.id,
        cardId: r.cardId,
        transactionId: r.transactionId,
        type: r.type,
        amount: r.amount,
        currency: r.currency,
        approved: r.approved,
        merchant: r.merchant,
        silent: r.silent,
        // The webhook event the partner sent (or would have sent) for this record; null when silent.
        eventId: r.eventId ?? null,
        occurredAt: new Date(r.occurredAt).toISOString(),
      })),
      nextCursor: rows.length > q.limit && last ? cursorOf(new Date(last.occurredAt), last.id) : null,
    };
  });

  router.post('/cards/:cardId/status', operator, async (ctx) => {
    const c = ctx as AppContext;
    const programId = tenantOf(c);
    const body = bodyOf(c, StatusBody);
    const card = await knex('sandbox.cards').where({ programId, id: ctx.params.cardId }).first();
    if (!card) throw new DomainError('NOT_FOUND', 'sandbox card not found');
    await knex('sandbox.cards')
      .where({ id: card.id })
      .update({ status: body.status, updatedAt: knex.fn.now() });
    const data = { cardId: card.id, status: body.status, reason: body.reason };
    const deferred = !body.silent && body.defer ? sandboxEvent('card.updated', data) : undefined;
    const delivery = body.silent || deferred ? null : await send(programId, 'card.updated', data);
    ctx.body = {
      cardId: card.id,
      status: body.status,
      silent: Boolean(body.silent),
      delivery,
      ...(deferred ? { event: deferred } : {}),
    };
  });

  router.post('/transactions', operator, async (ctx) => {
    const c = ctx as AppContext;
    const programId = tenantOf(c);
    const b = bodyOf(c, TransactionBody);
    const card = await knex('sandbox.cards').where({ programId, id: b.cardId }).first();
    if (!card) throw new DomainError('NOT_FOUND', 'sandbox card not found');
    const transactionId = b.transactionId ?? `sbt_${crypto.randomBytes(10).toString('hex')}`;
    const needsAmount = b.type !== 'expiry';
    if (needsAmount && !b.amount)
      throw new DomainError('VALIDATION_FAILED', `${b.type} needs an amount`, {
        fields: [{ path: 'amount', message: 'required' }],
      });
    const currency = b.currency ?? 'USD';
    const merchant = b.merchant ?? { name: 'Sandbox Merchant', mcc: '5999', country: 'US' };
    const data: Record<string, unknown> = { transactionId, cardId: card.id };
    if (b.type === 'authorization') Object.assign(data, { amount: b.amount, currency, merchant });
    else if (b.type === 'clearing') Object.assign(data, { amount: b.amount, currency });
    else if (b.type === 'reversal') Object.assign(data, { amount: b.amount });
    else if (b.type === 'refund')
      Object.assign(data, {
        refundId: `sbr_${crypto.randomBytes(8).toString('hex')}`,
        amount: b.amount,
        currency,
      });
    if (b.defer && b.type === 'authorization')
      throw new DomainError(
        'VALIDATION_FAILED',
        'an authorization asks the platform at once; it cannot be deferred',
        {
          fields: [{ path: 'defer', message: 'not allowed for authorization' }],
        },
      );
    // A real network asks the issuer first; the partner books the authorization as the answer says.
    const deferred = !b.silent && b.defer ? sandboxEvent(EVENT_FOR[b.type], data) : undefined;
    const delivery =
      b.silent || deferred ? null : await send(programId, EVENT_FOR[b.type], data, b.chaos?.duplicates);
    const answer = delivery?.deliveries[0]?.body as { approved?: boolean } | undefined;
    const approved = b.type === 'authorization' ? (b.silent ? true : Boolean(answer?.approved)) : null;
    const id = `sbx_${crypto.randomBytes(10).toString('hex')}`;
    await knex('sandbox.transactions').insert({
      id,
      programId,
      cardId: card.id,
      transactionId,
      type: b.type,
      amount: b.amount ?? 0,
      currency,
      merchant: b.type === 'authorization' ? JSON.stringify(merchant) : null,
      approved,
      eventId: delivery?.eventId ?? deferred?.id ?? null,
      silent: Boolean(b.silent),
    });
    ctx.status = 201;
    ctx.body = {
      id,
      transactionId,
      type: b.type,
      approved,
      delivery,
      ...(deferred ? { event: deferred } : {}),
    };
  });

  return router;
}
