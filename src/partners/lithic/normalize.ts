/**
 * Lithic deliveries → canonical events (partners.md §5.3, the Lithic table). Pure: the delivery
 * in (its body, and its `webhook-*` headers for the ids and times Lithic puts nowhere else), no
 * clock, no I/O.
 *
 * One subscription URL takes both kinds of body Lithic sends:
 * - Auth Stream Access: the `CardAuthorization` itself, with no `event_type` (or
 *   `card_authorization.approval_request`), answered synchronously;
 * - events: the resource flat, with `event_type` added (`card_transaction.updated`, `card.updated`).
 */
import { z } from 'zod';
import type { CanonicalEvent } from '../../domain/events';
import type { InboundDelivery, NormalizeResult } from '../adapter';
import {
  lithicEffects,
  lithicEntryId,
  lithicMerchant,
  LithicMerchant,
  LithicTransaction,
} from './transactions';

export const LITHIC = 'lithic';
export const ASA_TYPE = 'card_authorization.approval_request';

/** The event types a new Lithic subscription receives. */
export const LITHIC_EVENT_TYPES = [ASA_TYPE, 'card_transaction.updated', 'card.updated'] as const;

/** The dedupe id of an Auth Stream Access request: Lithic retries it once, with the same token. */
export const asaEventId = (token: string): string => `asa:${token}`;

const Amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Currency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/)
  .transform((c) => c.toUpperCase());

const Asa = z.looseObject({
  token: z.string().min(1).max(200),
  status: z.enum([
    'AUTHORIZATION',
    'CREDIT_AUTHORIZATION',
    'FINANCIAL_AUTHORIZATION',
    'FINANCIAL_CREDIT_AUTHORIZATION',
    'BALANCE_INQUIRY',
  ]),
  created: z.string().refine((s) => Number.isFinite(Date.parse(s)), 'not a date-time'),
  card: z.looseObject({ token: z.string().min(1).max(200) }),
  amounts: z.looseObject({ cardholder: z.looseObject({ amount: Amount, currency: Currency }) }),
  merchant: LithicMerchant,
  cash_amount: Amount.nullish(),
  pos: z
    .looseObject({
      terminal: z.looseObject({ partial_approval_capable: z.boolean().nullish() }).nullish(),
    })
    .nullish(),
});

const LITHIC_STATE = { OPEN: 'active', PAUSED: 'frozen', CLOSED: 'canceled' } as const;
const State = z.string().transform((s) => LITHIC_STATE[s as keyof typeof LITHIC_STATE] ?? null);
const CardUpdated = z.looseObject({
  card_token: z.string().min(1).max(200),
  state: State,
  previous_fields: z.record(z.string(), z.unknown()).nullish(),
});

const issues = (e: z.ZodError, prefix = ''): string =>
  e.issues.map((i) => `${prefix}${i.path.join('.')}: ${i.message}`).join('; ');

/** Lithic stamps events in whole seconds (`webhook-timestamp`): the end of the second it names. */
function headerTimeMs(delivery: InboundDelivery): number {
  const ts = Number(delivery.headers['webhook-timestamp']);
  return Number.isSafeInteger(ts) && ts > 0 ? ts * 1000 + 999 : delivery.receivedAtMs;
}

export function normalizeLithic(delivery: InboundDelivery): NormalizeResult {
  let body: unknown;
  try {
    body = JSON.parse(delivery.rawBody.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'unparseable', message: `not JSON: ${(err as Error).message}` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, reason: 'unparseable', message: 'not a JSON object' };
  const eventType = (body as { event_type?: unknown }).event_type;
  if (eventType === undefined || eventType === ASA_TYPE) return normalizeAsa(body);
  const webhookId = delivery.headers['webhook-id'];
  if (typeof eventType !== 'string' || !webhookId)
    return {
      ok: false,
      reason: 'unparseable',
      message: 'an event needs a string event_type and a webhook-id',
    };
  const bad = (message: string): NormalizeResult => ({
    ok: false,
    reason: 'unparseable',
    eventId: webhookId,
    type: eventType,
    message,
  });
  const ok = (events: CanonicalEvent[]): NormalizeResult => ({
    ok: true,
    eventId: webhookId,
    type: eventType,
    events,
  });

  if (eventType === 'card_transaction.updated') {
    const p = LithicTransaction.safeParse(body);
    if (!p.success) return bad(issues(p.error));
    const tx = p.data;
    const merchant = lithicMerchant(tx.merchant);
    const base = { partner: LITHIC, partnerCardId: tx.card_token };
    return ok(
      lithicEffects(tx).map((fx): CanonicalEvent => {
        const common = { ...base, eventId: fx.eventId, occurredAtMs: fx.occurredAtMs };
        switch (fx.kind) {
          case 'advice':
            return {
              ...common,
              kind: 'authorization.advice',
              transactionId: tx.token,
              approved: fx.approved,
              amount: fx.amount,
              currency: fx.currency,
              merchant,
              ...(fx.declineCode ? { declineCode: fx.declineCode } : {}),
            };
          case 'adjustment':
            return {
              ...common,
              kind: 'authorization.adjustment',
              transactionId: tx.token,
              amount: fx.amount,
            };
          case 'reversal':
            return { ...common, kind: 'authorization.reversal', transactionId: tx.token, amount: fx.amount };
          case 'expiry':
            return { ...common, kind: 'authorization.expiry', transactionId: tx.token };
          case 'clearing':
            return {
              ...common,
              kind: 'clearing',
              transactionId: tx.token,
              amount: fx.amount,
              currency: fx.currency,
            };
          case 'refund':
            // Usually its own transaction at Lithic, linked to no purchase (a RETURN).
            return {
              ...common,
              kind: 'refund',
              refundId: fx.linked ? fx.eventToken : tx.token,
              ...(fx.linked ? { transactionId: tx.token } : {}),
              amount: fx.amount,
              currency: fx.currency,
            };
          case 'review':
            return {
              ...common,
              kind: 'transaction.review',
              transactionId: lithicEntryId(tx.token, fx.linked),
              partnerType: fx.partnerType,
              reason: `a Lithic ${fx.partnerType} of ${fx.amount} (${fx.direction}): no rule applies it`,
              amount: fx.amount,
              currency: fx.currency,
              direction: fx.direction,
            };
        }
      }),
    );
  }
  if (eventType === 'card.updated') {
    const p = CardUpdated.safeParse(body);
    if (!p.success) return bad(issues(p.error));
    const { card_token, state, previous_fields } = p.data;
    // PENDING_ACTIVATION / PENDING_FULFILLMENT: not a status of ours; a change of another field: no news.
    if (state === null || (previous_fields && !('state' in previous_fields))) return ok([]);
    const before = State.safeParse(previous_fields?.state);
    return ok([
      {
        partner: LITHIC,
        partnerCardId: card_token,
        eventId: webhookId,
        occurredAtMs: headerTimeMs(delivery),
        kind: 'card.status',
        status: state,
        ...(before.success && before.data ? { previousStatus: before.data } : {}),
      },
    ]);
  }
  return { ok: false, reason: 'unknown_type', eventId: webhookId, type: eventType };
}

/**
 * An Auth Stream Access request. Purchases (AUTHORIZATION, and FINANCIAL_AUTHORIZATION, which
 * settles at once) are the card's to decide. A balance inquiry and credit authorizations (the
 * money comes back when the RETURN settles) are answered APPROVED by the adapter itself: Lithic
 * declines for a closed card before asking, and the platform closes the card at Lithic when it
 * cancels it. A balance inquiry answered without `balance` shows $0.
 */
function normalizeAsa(body: object): NormalizeResult {
  const p = Asa.safeParse(body);
  const token = (body as { token?: unknown }).token;
  const eventId = typeof token === 'string' && token ? asaEventId(token) : undefined;
  if (!p.success)
    return {
      ok: false,
      reason: 'unparseable',
      ...(eventId ? { eventId } : {}),
      type: ASA_TYPE,
      message: issues(p.error),
    };
  const a = p.data;
  const id = asaEventId(a.token);
  if (a.status !== 'AUTHORIZATION' && a.status !== 'FINANCIAL_AUTHORIZATION')
    return {
      ok: true,
      eventId: id,
      type: ASA_TYPE,
      events: [],
      reply: {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
        body: { token: a.token, result: 'APPROVED' },
      },
    };
  const { amount, currency } = a.amounts.cardholder;
  const cashback = a.cash_amount ?? 0;
  return {
    ok: true,
    eventId: id,
    type: ASA_TYPE,
    events: [
      {
        kind: 'authorization.request',
        eventId: id,
        partner: LITHIC,
        partnerCardId: a.card.token,
        transactionId: a.token,
        amount,
        currency,
        merchant: lithicMerchant(a.merchant),
        partialApproval: a.pos?.terminal?.partial_approval_capable === true,
        ...(cashback > 0 ? { cashbackAmount: Math.min(cashback, amount) } : {}),
        occurredAtMs: Date.parse(a.created),
      },
    ],
  };
}
