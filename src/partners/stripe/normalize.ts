/**
 * Stripe Issuing events → canonical events (partners.md §5.3, the Stripe table). Pure: the raw
 * body in, no clock, no I/O. Only the fields read are validated; everything else Stripe sends
 * (and adds in later API versions) passes untouched.
 */
import { z } from 'zod';
import type { Merchant } from '../../domain/authorization';
import type { CanonicalEvent } from '../../domain/events';
import type { NormalizeResult } from '../adapter';
import { merchantRegion, UNKNOWN_COUNTRY } from '../common';
import { stripeEventIds } from './ids';

export const STRIPE = 'stripe';

/** The event types a new Stripe subscription receives (its webhook endpoint's `enabled_events`). */
export const STRIPE_EVENT_TYPES = [
  'issuing_authorization.request',
  'issuing_authorization.created',
  'issuing_authorization.updated',
  'issuing_transaction.created',
  'issuing_card.updated',
] as const;

const Id = z.string().min(1).max(255);
const Amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const SignedAmount = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const Currency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/)
  .transform((c) => c.toUpperCase());
/** An id, or the object it names when the field was expanded. */
const Ref = z.union([Id, z.looseObject({ id: Id })]).transform((r) => (typeof r === 'string' ? r : r.id));

const Envelope = z.looseObject({
  id: Id,
  type: z.string().min(1).max(100),
  created: z.number().int().positive(),
  data: z.looseObject({
    object: z.record(z.string(), z.unknown()),
    previous_attributes: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const MerchantData = z.looseObject({
  category_code: z.string().regex(/^[0-9]{4}$/),
  country: z.string().nullish(),
  name: z.string().nullish(),
  state: z.string().nullish(),
});

const RequestHistory = z.looseObject({
  amount: Amount,
  approved: z.boolean(),
  reason: z.string(),
});

const Authorization = z.looseObject({
  id: Id,
  amount: Amount,
  approved: z.boolean(),
  status: z.string(),
  currency: Currency,
  card: Ref,
  merchant_data: MerchantData,
  pending_request: z
    .looseObject({
      amount: Amount,
      currency: Currency,
      is_amount_controllable: z.boolean(),
      amount_details: z.looseObject({ cashback_amount: Amount.nullish() }).nullish(),
    })
    .nullish(),
  request_history: z.array(RequestHistory).default([]),
});
type Authorization = z.infer<typeof Authorization>;

const Transaction = z.looseObject({
  id: Id,
  type: z.string(),
  amount: SignedAmount,
  currency: Currency,
  card: Ref,
  authorization: Ref.nullish(),
});

const CARD_STATUS = { active: 'active', inactive: 'frozen', canceled: 'canceled' } as const;
const CardStatus = z.enum(['active', 'inactive', 'canceled']).transform((s) => CARD_STATUS[s]);
const Card = z.looseObject({
  id: Id,
  status: CardStatus,
  cancellation_reason: z.string().nullish(),
});

/** Stripe's `merchant_data` as the platform's merchant (country alpha-2, region `CC-SS`). */
export function stripeMerchant(m: z.infer<typeof MerchantData>): Merchant {
  const country = m.country && /^[A-Za-z]{2}$/.test(m.country) ? m.country.toUpperCase() : UNKNOWN_COUNTRY;
  return {
    ...(m.name ? { name: m.name.slice(0, 200) } : {}),
    mcc: m.category_code,
    country,
    ...merchantRegion(country, m.state),
  };
}

const issues = (e: z.ZodError, prefix: string): string =>
  e.issues.map((i) => `${prefix}${i.path.join('.')}: ${i.message}`).join('; ');

/** The amount an authorization asked for, when it was declined (Stripe's `amount` is then 0). */
const askedAmount = (a: Authorization): number =>
  a.request_history[a.request_history.length - 1]?.amount ?? a.pending_request?.amount ?? a.amount;

/** Parses and normalizes one delivery's body. Pure. */
export function normalizeStripe(raw: Buffer | string): NormalizeResult {
  let body: unknown;
  try {
    body = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'unparseable', message: `not JSON: ${(err as Error).message}` };
  }
  const env = Envelope.safeParse(body);
  if (!env.success) return { ok: false, reason: 'unparseable', message: issues(env.error, '') };
  const { id: eventId, type, created } = env.data;
  const previous = env.data.data.previous_attributes ?? {};
  const occurredAtMs = created * 1000;
  const base = { partner: STRIPE, occurredAtMs };
  const ok = (events: CanonicalEvent[]): NormalizeResult => ({ ok: true, eventId, type, events });
  const bad = (message: string): NormalizeResult => ({
    ok: false,
    reason: 'unparseable',
    eventId,
    type,
    message,
  });

  const object = env.data.data.object;
  switch (type) {
    case 'issuing_authorization.request':
    case 'issuing_authorization.created':
    case 'issuing_authorization.updated': {
      const p = Authorization.safeParse(object);
      if (!p.success) return bad(issues(p.error, 'data.object.'));
      const a = p.data;
      const card = { ...base, partnerCardId: a.card, transactionId: a.id };
      if (type === 'issuing_authorization.request') {
        const pending = a.pending_request;
        if (!pending || pending.amount <= 0)
          return bad('data.object.pending_request: a request asks for an amount');
        // An authorization already holding money asks for more: an increment of what it asks.
        if (a.amount > 0)
          return ok([{ ...card, eventId, kind: 'authorization.increment', amount: pending.amount }]);
        const cashback = pending.amount_details?.cashback_amount ?? 0;
        return ok([
          {
            ...card,
            eventId,
            kind: 'authorization.request',
            amount: pending.amount,
            currency: pending.currency,
            merchant: stripeMerchant(a.merchant_data),
            partialApproval: pending.is_amount_controllable,
            ...(cashback > 0 ? { cashbackAmount: Math.min(cashback, pending.amount) } : {}),
          },
        ]);
      }
      if (type === 'issuing_authorization.created') {
        const reason = a.request_history[a.request_history.length - 1]?.reason;
        return ok([
          {
            ...card,
            eventId: stripeEventIds.decision(a.id),
            kind: 'authorization.advice',
            approved: a.approved,
            amount: a.approved ? a.amount : askedAmount(a),
            currency: a.currency,
            merchant: stripeMerchant(a.merchant_data),
            ...(a.approved ? {} : { declineCode: reason ?? 'PARTNER_DECLINED' }),
            // webhook_approved / _declined / _timeout / _error: Stripe asked us first.
            ...(reason === undefined ? {} : { requested: reason.startsWith('webhook_') }),
          },
        ]);
      }
      return ok(authorizationUpdated(a, previous, card));
    }
    case 'issuing_transaction.created': {
      const p = Transaction.safeParse(object);
      if (!p.success) return bad(issues(p.error, 'data.object.'));
      const t = p.data;
      const common = {
        ...base,
        eventId: stripeEventIds.transaction(t.id),
        partnerCardId: t.card,
        currency: t.currency,
      };
      // Stripe signs amounts from the balance's view: a capture takes money (negative), a refund gives it back.
      if (t.type === 'capture' && t.amount < 0)
        return ok([
          { ...common, kind: 'clearing', transactionId: t.authorization ?? t.id, amount: -t.amount },
        ]);
      if (t.type === 'refund' && t.amount > 0)
        return ok([
          {
            ...common,
            kind: 'refund',
            refundId: t.id,
            ...(t.authorization ? { transactionId: t.authorization } : {}),
            amount: t.amount,
          },
        ]);
      return ok([
        {
          ...common,
          kind: 'transaction.review',
          transactionId: t.authorization ?? t.id,
          partnerType: t.type,
          reason: `a Stripe ${t.type} of ${t.amount}: no rule applies it`,
          amount: Math.abs(t.amount),
          direction: t.amount < 0 ? 'debit' : 'credit',
        },
      ]);
    }
    case 'issuing_card.updated': {
      const p = Card.safeParse(object);
      if (!p.success) return bad(issues(p.error, 'data.object.'));
      if (!('status' in previous)) return ok([]); // another field changed (spending controls, …)
      const before = CardStatus.safeParse(previous.status);
      return ok([
        {
          ...base,
          // Stripe stamps in whole seconds: the end of the second it names, so that a change made
          // in the same second as the card's own is not taken for an older one (partners.md §4).
          occurredAtMs: occurredAtMs + 999,
          eventId,
          kind: 'card.status',
          partnerCardId: p.data.id,
          status: p.data.status,
          ...(p.data.cancellation_reason ? { reason: p.data.cancellation_reason } : {}),
          ...(before.success ? { previousStatus: before.data } : {}),
        },
      ]);
    }
    default:
      return { ok: false, reason: 'unknown_type', eventId, type };
  }
}

/**
 * `issuing_authorization.updated`: what changed, from `previous_attributes` —
 * - expired: the hold lapsed;
 * - the amount fell (reversed, or a partial reversal while pending): a reversal of the fall;
 * - the amount rose with no request we approved in this update (Stripe decided it, or defaulted
 *   after our answer came too late): a partner-decided adjustment;
 * - anything else (closed by its capture, a rise we approved): no money.
 */
function authorizationUpdated(
  a: Authorization,
  previous: Record<string, unknown>,
  card: { partner: string; occurredAtMs: number; partnerCardId: string; transactionId: string },
): CanonicalEvent[] {
  if (a.status === 'expired')
    return [{ ...card, eventId: stripeEventIds.expiry(a.id), kind: 'authorization.expiry' }];
  // Closed by its capture (or its decline): the capture comes as an issuing_transaction.
  if (a.status === 'closed') return [];
  const before = previous.amount;
  if (typeof before !== 'number' || !Number.isSafeInteger(before) || before === a.amount) return [];
  if (a.amount < before)
    return [
      {
        ...card,
        eventId: stripeEventIds.reversal(a.id, a.amount),
        kind: 'authorization.reversal',
        amount: before - a.amount,
      },
    ];
  if (a.status !== 'pending') return [];
  const earlier = Array.isArray(previous.request_history)
    ? previous.request_history.length
    : a.request_history.length;
  const approvedByUs = a.request_history
    .slice(earlier)
    .some((r) => r.approved && r.reason === 'webhook_approved');
  if (approvedByUs) return [];
  return [
    {
      ...card,
      eventId: stripeEventIds.adjustment(a.id, a.amount),
      kind: 'authorization.adjustment',
      amount: a.amount - before,
    },
  ];
}
