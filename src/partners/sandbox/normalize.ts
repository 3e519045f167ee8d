import { z } from 'zod';
import type { CanonicalEvent } from '../../domain/events';
import type { NormalizeResult } from '../adapter';
import { SANDBOX, type SANDBOX_EVENT_TYPES } from './events';

const Amount = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Currency = z.string().regex(/^[A-Z]{3}$/);
const Id = z.string().min(1).max(200);
/** A merchant as partners describe it (sandbox payloads and the sandbox API). */
export const MerchantSchema = z.object({
  name: z.string().max(200).optional(),
  mcc: z.string().regex(/^[0-9]{4}$/),
  country: z.string().regex(/^[A-Z]{2}$/),
  region: z
    .string()
    .regex(/^[A-Z]{2}-[A-Z0-9]{1,3}$/)
    .optional(),
});

export const SandboxEnvelope = z.object({
  id: Id,
  type: z.string().min(1).max(100),
  created: z.iso.datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()),
});

const DATA = {
  'authorization.request': z.object({
    transactionId: Id,
    cardId: Id,
    amount: Amount,
    currency: Currency,
    merchant: MerchantSchema,
  }),
  'authorization.advice': z.object({
    transactionId: Id,
    cardId: Id,
    amount: Amount,
    currency: Currency,
    merchant: MerchantSchema,
    approved: z.boolean(),
    declineCode: z.string().max(100).optional(),
  }),
  'authorization.incremented': z.object({ transactionId: Id, cardId: Id, amount: Amount }),
  'authorization.reversed': z.object({ transactionId: Id, cardId: Id, amount: Amount }),
  'authorization.expired': z.object({ transactionId: Id, cardId: Id }),
  'transaction.cleared': z.object({ transactionId: Id, cardId: Id, amount: Amount, currency: Currency }),
  'transaction.refunded': z.object({
    refundId: Id,
    transactionId: Id.optional(),
    cardId: Id,
    amount: Amount,
    currency: Currency,
  }),
  'card.updated': z.object({
    cardId: Id,
    status: z.enum(['active', 'frozen', 'canceled']),
    reason: z.string().max(500).optional(),
  }),
} satisfies Record<(typeof SANDBOX_EVENT_TYPES)[number], z.ZodType>;

/** A sandbox delivery's bytes → its canonical event (a sandbox delivery carries exactly one). Pure. */
export function normalizeSandboxDelivery(rawBody: Buffer): NormalizeResult {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'unparseable', message: 'the body is not valid JSON' };
  }
  return normalizeSandbox(body);
}

/** Sandbox payload → canonical event. Pure. */
export function normalizeSandbox(body: unknown): NormalizeResult {
  const env = SandboxEnvelope.safeParse(body);
  if (!env.success)
    return {
      ok: false,
      reason: 'unparseable',
      message: env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    };
  const { id, type, created } = env.data;
  if (!(type in DATA)) return { ok: false, reason: 'unknown_type', eventId: id, type };
  const schema = DATA[type as keyof typeof DATA];
  const parsed = schema.safeParse(env.data.data);
  if (!parsed.success) {
    return {
      ok: false,
      reason: 'unparseable',
      eventId: id,
      type,
      message: parsed.error.issues.map((i) => `data.${i.path.join('.')}: ${i.message}`).join('; '),
    };
  }
  const base = { eventId: id, partner: SANDBOX, occurredAtMs: Date.parse(created) };
  const d = parsed.data as unknown as Record<string, never>;
  const event = ((): CanonicalEvent => {
    switch (type as keyof typeof DATA) {
      case 'authorization.request':
        return {
          ...base,
          kind: 'authorization.request',
          partnerCardId: d.cardId,
          transactionId: d.transactionId,
          amount: d.amount,
          currency: d.currency,
          merchant: d.merchant,
        };
      case 'authorization.advice':
        return {
          ...base,
          kind: 'authorization.advice',
          partnerCardId: d.cardId,
          transactionId: d.transactionId,
          amount: d.amount,
          currency: d.currency,
          merchant: d.merchant,
          approved: d.approved,
          declineCode: d.declineCode,
        };
      case 'authorization.incremented':
        return {
          ...base,
          kind: 'authorization.increment',
          partnerCardId: d.cardId,
          transactionId: d.transactionId,
          amount: d.amount,
        };
      case 'authorization.reversed':
        return {
          ...base,
          kind: 'authorization.reversal',
          partnerCardId: d.cardId,
          transactionId: d.transactionId,
          amount: d.amount,
        };
      case 'authorization.expired':
        return {
          ...base,
          kind: 'authorization.expiry',
          partnerCardId: d.cardId,
          transactionId: d.transactionId,
        };
      case 'transaction.cleared':
        return {
          ...base,
          kind: 'clearing',
          partnerCardId: d.cardId,
          transactionId: d.transactionId,
          amount: d.amount,
          currency: d.currency,
        };
      case 'transaction.refunded':
        return {
          ...base,
          kind: 'refund',
          partnerCardId: d.cardId,
          refundId: d.refundId,
          transactionId: d.transactionId,
          amount: d.amount,
          currency: d.currency,
        };
      case 'card.updated':
        return { ...base, kind: 'card.status', partnerCardId: d.cardId, status: d.status, reason: d.reason };
    }
  })();
  return { ok: true, eventId: id, type, events: [event] };
}
