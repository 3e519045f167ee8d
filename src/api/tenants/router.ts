import Router from '@koa/router';
import { z } from 'zod';
import type { ApiDeps, AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { PartialPolicySchema } from '../schemas';
import { bodyOf } from '../validate';
import { createTenant } from '../../tenants/create';
import { ensureReconciliationSchedule } from '../../reconciliation/runs';
import type { AppContext } from '../context';

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
    idempotency(deps.knex, { redact: ['appKey', 'operatorKey', 'approverKey', 'sandboxWebhookSecret'] }),
    async (ctx) => {
      const body = bodyOf(ctx as AppContext, CreateTenantSchema);
      const created = await createTenant(
        deps.knex,
        deps.vault,
        { ...body, createdBy: ctx.state.auth!.keyId },
        deps.config.publicUrl,
      );
      // Its books are reconciled with the sandbox partner's from the start (when the sandbox's
      // listings are served here). The tenant exists either way: a schedule Temporal could not
      // take now is put in place by `npm run reconcile:schedule` (or the next `npm run dev`).
      let reconciliationSchedule: string | null = null;
      if (deps.config.sandboxEnabled) {
        try {
          reconciliationSchedule = (
            await ensureReconciliationSchedule(
              {
                knex: deps.knex,
                temporal: deps.temporal,
                taskQueue: deps.cards.taskQueue,
                settings: deps.config.reconciliation,
              },
              { tenantId: created.id, partner: 'sandbox' },
            )
          ).scheduleId;
        } catch (err) {
          ctx.state.log.warn(
            { err: String(err), tenantId: created.id },
            'reconciliation schedule not created',
          );
        }
      }
      ctx.status = 201;
      ctx.body = {
        id: created.id,
        slug: created.slug,
        name: created.name,
        appKey: created.appKey,
        operatorKey: created.operatorKey,
        approverKey: created.approverKey,
        sandboxWebhookUrl: created.sandboxWebhookUrl,
        sandboxWebhookSecret: created.sandboxWebhookSecret,
        reconciliationSchedule,
      };
    },
  );
  return router;
}
