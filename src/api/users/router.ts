import Router from '@koa/router';
import { z } from 'zod';
import { DomainError } from '../../domain/errors';
import { setBillingAddress } from '../../users/billing-address';
import { createUser } from '../../users/create';
import { User } from '../../db/models';
import { tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { Region } from '../schemas';
import { bodyOf, pathId } from '../validate';

/** Where the user's cards are billed: a partner that files cards under cardholders needs it (Stripe). */
const BillingAddress = z.strictObject({
  line1: z.string().trim().min(1).max(200),
  line2: z.string().trim().min(1).max(200).optional(),
  city: z.string().trim().min(1).max(100),
  state: z.string().trim().min(1).max(10).optional(),
  postalCode: z.string().trim().min(1).max(20),
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as "US"'),
});

const CreateUserSchema = z.strictObject({
  externalId: z.string().trim().min(1).max(200),
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320).optional(),
  region: Region,
  billingAddress: BillingAddress.optional(),
});

const UpdateUserSchema = z.strictObject({ billingAddress: BillingAddress });

export function presentUser(u: User) {
  return {
    id: u.id,
    externalId: u.externalId,
    name: u.name,
    email: u.email,
    region: u.region,
    billingAddress: u.billingAddress ?? null,
    status: u.status,
    createdAt: new Date(u.createdAt).toISOString(),
  };
}

/** Shoppers (app key). */
export function usersRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();

  router.post('/v1/users', requireRole('app'), idempotency(knex), async (ctx) => {
    const tenantId = tenantOf(ctx as AppContext);
    const body = bodyOf(ctx as AppContext, CreateUserSchema);
    const user = await createUser(knex, {
      tenantId,
      idempotencyKey: ctx.get('idempotency-key') || undefined,
      user: body,
    });
    ctx.status = 201;
    ctx.body = presentUser(user);
  });

  /** The user's billing address (for users made before their program issued at a partner that needs one). */
  router.patch('/v1/users/:id', requireRole('app'), async (ctx) => {
    const c = ctx as AppContext;
    const body = bodyOf(c, UpdateUserSchema);
    ctx.body = presentUser(
      await setBillingAddress(knex, {
        tenantId: tenantOf(c),
        userId: pathId(c),
        billingAddress: body.billingAddress,
      }),
    );
  });

  router.get('/v1/users/:id', requireRole('app'), async (ctx) => {
    const user = await User.query(knex)
      .where({ tenantId: tenantOf(ctx as AppContext), id: pathId(ctx as AppContext) })
      .first();
    if (!user) throw new DomainError('NOT_FOUND', 'user not found');
    ctx.body = presentUser(user);
  });

  return router;
}
