import Router from '@koa/router';
import { z } from 'zod';
import { createTenant, tenantSecretFields } from '../../tenants/create';
import type { ApiDeps, AppContext, AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { PartialPolicySchema } from '../schemas';
import { bodyOf } from '../validate';

const CreateTenantSchema = z.strictObject({
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
  name: z.string().trim().min(1).max(200),
  policy: PartialPolicySchema.optional(),
});

/** Platform-level administration: creating card programs (tenants). */
export function tenantsRouter(deps: ApiDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.post(
    '/admin/tenants',
    requireRole('platform'),
    idempotency(deps.knex, { redact: tenantSecretFields(deps.partners) }),
    async (ctx) => {
      const body = bodyOf(ctx as AppContext, CreateTenantSchema);
      const created = await createTenant(
        {
          knex: deps.knex,
          vault: deps.vault,
          partners: deps.partners,
          publicUrl: deps.config.publicUrl,
          // Its books are reconciled with its partners' from the start when their listings are
          // served here (the sandbox's own API is on).
          reconciliation: deps.config.sandboxEnabled
            ? {
                temporal: deps.temporal,
                taskQueue: deps.cards.taskQueue,
                settings: deps.config.reconciliation,
                log: ctx.state.log,
              }
            : null,
        },
        { ...body, createdBy: ctx.state.auth!.keyId },
      );
      ctx.status = 201;
      ctx.body = {
        id: created.id,
        slug: created.slug,
        name: created.name,
        appKey: created.appKey,
        operatorKey: created.operatorKey,
        approverKey: created.approverKey,
        ...created.partnerCredentials,
        reconciliationSchedule: created.reconciliationSchedule,
      };
    },
  );
  return router;
}
