import Router from '@koa/router';
import { z } from 'zod';
import { DomainError } from '../../domain/errors';
import { maskCardNumbers } from '../../domain/events';
import { getPartner, hasPartner } from '../../partners/adapter';
import { latestOutcome, latestOutcomeOrder } from '../../webhooks/outcomes';
import { receiveDelivery } from '../../webhooks/receive';
import {
  createSubscription,
  rotateSubscriptionSecret,
  updateSubscription,
  updateSubscriptionConnection,
} from '../../webhooks/subscriptions';
import { tenantOf, type ApiDeps, type AppContext, type AppState } from '../context';
import { requireRole } from '../middleware/auth';
import { idempotency } from '../middleware/idempotency';
import { decodeCursor, encodeCursor, PaginationSchema } from '../schemas';
import { bodyOf, pathId, queryOf } from '../validate';
import { webhookDeps } from '../webhooks/router';

const OUTCOMES = ['applied', 'duplicate', 'ignored', 'rejected', 'unparseable', 'parked', 'failed'] as const;

const ListQuery = PaginationSchema.extend({
  partner: z.string().max(30).optional(),
  outcome: z.enum(OUTCOMES).optional(),
  cardId: z.string().max(100).optional(),
});

/** A secret or key as a partner makes it: printable, no whitespace. */
const Secret = z
  .string()
  .min(8)
  .max(500)
  .regex(/^[\x21-\x7e]+$/, 'printable characters, no whitespace');

/** What a tenant gives for a real partner (partners.md §5.1); sealed, never echoed. */
const Connection = {
  signingSecret: Secret.optional(),
  authorizationSigningSecret: Secret.optional(),
  apiKey: Secret.optional(),
  apiBaseUrl: z
    .url({ protocol: /^https?$/ })
    .max(500)
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  stripeVersion: z
    .string()
    .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[a-z]+)?$/, 'a Stripe API version, e.g. 2026-10-28.endive')
    .optional(),
};

const ctxOf = (ctx: unknown): AppContext => ctx as AppContext;

interface PartnerSubscriptionRow {
  id: string;
  partner: string;
  eventTypes: string[];
  status: string;
  previousSecretExpiresAt: Date | null;
  previousAuthorizationSecretExpiresAt?: Date | null;
  authorizationSecretEncrypted?: string | null;
  apiKeyLast4?: string | null;
  apiBaseUrl?: string | null;
  stripeVersion?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A stored body for operators' eyes: card numbers masked, JSON parsed when it is JSON. */
export function presentPayload(raw: Buffer): { text: string; json: unknown } {
  const text = maskCardNumbers(raw.toString('utf8'));
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    return { text, json: null };
  }
}

/** Operators' view of partner deliveries and subscriptions. */
export function adminWebhooksRouter(deps: ApiDeps): Router<AppState> {
  const { knex } = deps;
  const router = new Router<AppState>();
  const operator = requireRole('operator');

  router.get('/admin/webhook-events', operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const q = queryOf(c, ListQuery);
    const bindings: Array<string | number | Date> = [tenantId];
    let where = 'd.tenant_id = ?';
    if (q.partner) {
      where += ' AND d.partner = ?';
      bindings.push(q.partner);
    }
    if (q.outcome) {
      where += ' AND o.outcome = ?';
      bindings.push(q.outcome);
    }
    if (q.cardId) {
      where +=
        ' AND EXISTS (SELECT 1 FROM webhook_outcomes x WHERE x.tenant_id = d.tenant_id AND x.delivery_id = d.id AND x.card_id = ?)';
      bindings.push(q.cardId);
    }
    if (q.cursor) {
      const after = decodeCursor(q.cursor);
      if (!after)
        throw new DomainError('VALIDATION_FAILED', 'invalid cursor', {
          fields: [{ path: 'cursor', message: 'invalid' }],
        });
      where += ' AND (d.received_at, d.id) < (?, ?)';
      bindings.push(after.createdAt, after.id);
    }
    bindings.push(q.limit + 1);
    const { rows } = await knex.raw(
      `SELECT d.id, d.partner, d.subscription_id AS "subscriptionId", d.received_at AS "receivedAt", o.outcome, o.event_id AS "eventId", o.event_type AS "eventType", o.card_id AS "cardId", o.error
         FROM webhook_deliveries d
         LEFT JOIN LATERAL (SELECT * FROM webhook_outcomes o WHERE o.tenant_id = d.tenant_id AND o.delivery_id = d.id ORDER BY ${latestOutcomeOrder('o')} LIMIT 1) o ON true
        WHERE ${where}
        ORDER BY d.received_at DESC, d.id DESC
        LIMIT ?`,
      bindings,
    );
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    ctx.body = {
      data: page.map((r: Record<string, unknown>) => ({
        id: r.id,
        partner: r.partner,
        subscriptionId: r.subscriptionId,
        receivedAt: new Date(r.receivedAt as string).toISOString(),
        outcome: r.outcome ?? null,
        eventId: r.eventId ?? null,
        eventType: r.eventType ?? null,
        cardId: r.cardId ?? null,
        error: r.error ?? null,
      })),
      nextCursor: rows.length > q.limit && last ? encodeCursor(new Date(last.receivedAt), last.id) : null,
    };
  });

  const loadDelivery = async (tenantId: string, id: string) => {
    const d = await knex('webhook_deliveries').where({ tenantId, id }).first();
    if (!d) throw new DomainError('NOT_FOUND', 'webhook event not found');
    return d;
  };

  router.get('/admin/webhook-events/:id', operator, async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const d = await loadDelivery(tenantId, pathId(c));
    const outcomes = await knex('webhook_outcomes').where({ tenantId, deliveryId: d.id }).orderBy('id');
    const handoff = await knex('webhook_handoffs').where({ tenantId, deliveryId: d.id }).first();
    const latest = latestOutcome(outcomes);
    ctx.body = {
      id: d.id,
      partner: d.partner,
      subscriptionId: d.subscriptionId,
      receivedAt: new Date(d.receivedAt).toISOString(),
      headers: d.headers,
      payload: presentPayload(d.rawBody),
      outcome: latest?.outcome ?? null,
      outcomes: outcomes.map((o) => ({
        outcome: o.outcome,
        eventId: o.eventId,
        eventType: o.eventType,
        cardId: o.cardId,
        error: o.error,
        details: o.details,
        at: new Date(o.createdAt).toISOString(),
      })),
      handoff: handoff
        ? {
            status: handoff.status,
            attempts: handoff.attempts,
            lastError: handoff.lastError,
            cardId: handoff.cardId,
          }
        : null,
    };
  });

  /** Reprocesses a stored delivery: the same checks and the same hand-off; the card applies an event once. */
  router.post('/admin/webhook-events/:id/replay', operator, idempotency(knex), async (ctx) => {
    const c = ctxOf(ctx);
    const tenantId = tenantOf(c);
    const d = await loadDelivery(tenantId, pathId(c));
    const answer = await receiveDelivery(webhookDeps(deps, ctx.state.log), {
      partner: d.partner,
      subscriptionId: d.subscriptionId,
      headers: d.headers,
      rawBody: d.rawBody,
      requestId: ctx.state.requestId,
      receivedAtMs: new Date(d.receivedAt).getTime(),
      replayOf: d.id,
    });
    ctx.body = { id: d.id, replayed: true, status: answer.status, result: answer.body };
  });

  // ---- partner subscriptions ---------------------------------------------------------------------
  const knownPartner = (ctx: AppContext): string => {
    const partner = ctx.params.partner ?? '';
    if (!hasPartner(deps.partners, partner)) throw new DomainError('NOT_FOUND', 'unknown partner');
    return partner;
  };
  const presentSub = (s: PartnerSubscriptionRow, secret?: string) => ({
    id: s.id,
    partner: s.partner,
    eventTypes: s.eventTypes,
    status: s.status,
    url: `${deps.config.publicUrl}/webhooks/${s.partner}/${s.id}`,
    previousSecretExpiresAt: s.previousSecretExpiresAt
      ? new Date(s.previousSecretExpiresAt).toISOString()
      : null,
    // What the partner made is never echoed: the key by its last four, a secret by its presence.
    apiKeyLast4: s.apiKeyLast4 ?? null,
    apiBaseUrl: s.apiBaseUrl ?? null,
    stripeVersion: s.stripeVersion ?? null,
    authorizationSecret: Boolean(s.authorizationSecretEncrypted),
    previousAuthorizationSecretExpiresAt: s.previousAuthorizationSecretExpiresAt
      ? new Date(s.previousAuthorizationSecretExpiresAt).toISOString()
      : null,
    createdAt: new Date(s.createdAt).toISOString(),
    updatedAt: new Date(s.updatedAt).toISOString(),
    ...(secret ? { secret } : {}),
  });
  const eventTypesFor = (partner: string) =>
    z
      .array(z.string())
      .min(1)
      .refine(
        (ts) => ts.every((t) => getPartner(deps.partners, partner).eventTypes.includes(t)),
        `known ${partner} event types only`,
      )
      .transform((ts) => [...new Set(ts)]);

  router.get('/admin/partners/:partner/subscriptions', operator, async (ctx) => {
    const c = ctxOf(ctx);
    const rows = await knex('partner_subscriptions')
      .where({ tenantId: tenantOf(c), partner: knownPartner(c) })
      .orderBy('createdAt');
    ctx.body = { data: rows.map((r) => presentSub(r)), nextCursor: null };
  });

  router.post(
    '/admin/partners/:partner/subscriptions',
    operator,
    idempotency(knex, { redact: ['secret'] }),
    async (ctx) => {
      const c = ctxOf(ctx);
      const partner = knownPartner(c);
      const { eventTypes, ...connection } = bodyOf(
        c,
        z.strictObject({ eventTypes: eventTypesFor(partner).optional(), ...Connection }),
      );
      const created = await createSubscription(
        knex,
        deps.vault,
        tenantOf(c),
        partner,
        eventTypes ?? getPartner(deps.partners, partner).eventTypes,
        connection,
      );
      ctx.status = 201;
      // A generated secret is shown once; the partner's own is never echoed.
      ctx.body = presentSub(
        await knex('partner_subscriptions').where({ id: created.id }).first(),
        created.generated ? created.secret : undefined,
      );
    },
  );

  const loadSub = async (c: AppContext) => {
    const sub = await knex('partner_subscriptions')
      .where({ tenantId: tenantOf(c), partner: knownPartner(c), id: pathId(c) })
      .first();
    if (!sub) throw new DomainError('NOT_FOUND', 'subscription not found');
    return sub;
  };

  router.patch('/admin/partners/:partner/subscriptions/:id', operator, async (ctx) => {
    const c = ctxOf(ctx);
    const sub = await loadSub(c);
    const body = bodyOf(
      c,
      z
        .strictObject({
          eventTypes: eventTypesFor(sub.partner).optional(),
          status: z.enum(['active', 'paused', 'disabled']).optional(),
          apiKey: Connection.apiKey,
          apiBaseUrl: Connection.apiBaseUrl,
          stripeVersion: Connection.stripeVersion,
        })
        .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to change'),
    );
    const { apiKey, apiBaseUrl, stripeVersion, ...change } = body;
    await updateSubscriptionConnection(knex, deps.vault, sub, { apiKey, apiBaseUrl, stripeVersion });
    if (change.eventTypes || change.status) await updateSubscription(knex, sub, change);
    ctx.body = presentSub(await knex('partner_subscriptions').where({ id: sub.id }).first());
  });

  /**
   * A new signing secret (the partner's own, or generated and shown once) and, if given, the
   * partner's new authorization secret; each old one keeps verifying for 24 hours so the partner
   * can switch over.
   */
  router.post(
    '/admin/partners/:partner/subscriptions/:id/rotate-secret',
    operator,
    idempotency(knex, { redact: ['secret'] }),
    async (ctx) => {
      const c = ctxOf(ctx);
      const sub = await loadSub(c);
      const given = bodyOf(
        c,
        z.strictObject({
          signingSecret: Connection.signingSecret,
          authorizationSigningSecret: Connection.authorizationSigningSecret,
        }),
      );
      const rotated = await rotateSubscriptionSecret(knex, deps.vault, sub, given);
      ctx.body = presentSub(
        await knex('partner_subscriptions').where({ id: sub.id }).first(),
        rotated.generated ? rotated.secret : undefined,
      );
    },
  );

  return router;
}
