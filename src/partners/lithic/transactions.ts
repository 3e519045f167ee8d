/**
 * What each entry of a Lithic transaction's `events[]` does to the books, for the webhook
 * (`card_transaction.updated`) and the listing alike, so that both name every effect with the
 * same id: the event's token (partners.md §3.3, §5.3).
 *
 * `events[]` is cumulative (every update carries the whole history), so the effects of one entry
 * are the same in every delivery that carries it, and the dedupe is per token. Event amounts are
 * unsigned; `effective_polarity` says which way the money goes. AUTHORIZATION_ADVICE carries the
 * new total of the hold: its effect is the change from the total the entries before it left.
 */
import { z } from 'zod';
import type { Merchant } from '../../domain/authorization';
import { unlinkedRefundEntryId } from '../../domain/ledger';
import { merchantRegion, UNKNOWN_COUNTRY } from '../common';
import { alpha3ToAlpha2 } from './countries';

const Amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Currency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/)
  .transform((c) => c.toUpperCase());
const Time = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'not a date-time');

export const LithicMerchant = z.looseObject({
  descriptor: z.string().nullish(),
  mcc: z.string().regex(/^[0-9]{4}$/),
  country: z.string().nullish(),
  state: z.string().nullish(),
});

export const LithicEvent = z.looseObject({
  token: z.string().min(1).max(200),
  type: z.string(),
  result: z.string(),
  effective_polarity: z.enum(['CREDIT', 'DEBIT']),
  created: Time,
  amounts: z.looseObject({ cardholder: z.looseObject({ amount: Amount, currency: Currency }) }),
});
type LithicEvent = z.infer<typeof LithicEvent>;

export const LithicTransaction = z.looseObject({
  token: z.string().min(1).max(200),
  card_token: z.string().min(1).max(200),
  merchant: LithicMerchant,
  events: z.array(LithicEvent).default([]),
});
export type LithicTransaction = z.infer<typeof LithicTransaction>;

/** Lithic's merchant as the platform's: country alpha-3 → alpha-2, region `CC-SS`. */
export function lithicMerchant(m: z.infer<typeof LithicMerchant>): Merchant {
  const country = alpha3ToAlpha2(m.country) ?? UNKNOWN_COUNTRY;
  return {
    ...(m.descriptor ? { name: m.descriptor.slice(0, 200) } : {}),
    mcc: m.mcc,
    country,
    ...merchantRegion(country, m.state),
  };
}

interface EffectBase {
  /** The canonical event id (the Lithic event's token, or derived from it). */
  eventId: string;
  /** The Lithic event it comes from. */
  eventToken: string;
  occurredAtMs: number;
}
export type LithicEffect = EffectBase &
  (
    | { kind: 'advice'; approved: boolean; amount: number; currency: string; declineCode?: string }
    | { kind: 'adjustment'; amount: number }
    | { kind: 'reversal'; amount: number }
    | { kind: 'expiry' }
    | { kind: 'clearing'; amount: number; currency: string }
    | {
        kind: 'refund';
        amount: number;
        currency: string;
        /** On a transaction that was a purchase: the refund is of it (else a transaction of its own). */
        linked: boolean;
      }
    | {
        kind: 'review';
        partnerType: string;
        amount: number;
        currency: string;
        direction: 'debit' | 'credit';
        linked: boolean;
      }
  );

/** The events that move nothing: a pending credit counts when its RETURN settles; a balance inquiry is no money. */
const NO_MONEY = new Set(['CREDIT_AUTHORIZATION', 'CREDIT_AUTHORIZATION_ADVICE', 'BALANCE_INQUIRY']);
/** What no rule applies safely: an operator looks at them. */
const REVIEW = new Set(['RETURN_REVERSAL', 'CORRECTION_CREDIT', 'CORRECTION_DEBIT']);

/** The ledger entry a Lithic transaction's refunds and reviews belong to. */
export const lithicEntryId = (txToken: string, linked: boolean): string =>
  linked ? txToken : unlinkedRefundEntryId(txToken);

/** Every entry's effects, in the transaction's order (the hold total is carried from entry to entry). */
export function lithicEffects(tx: LithicTransaction): LithicEffect[] {
  const out: LithicEffect[] = [];
  let hold: number | null = null; // Lithic's hold total so far; null: no approved authorization yet
  let purchase = false; // money was taken on this transaction before (a refund on it is linked)
  for (const e of tx.events) {
    const base = { eventId: e.token, eventToken: e.token, occurredAtMs: Date.parse(e.created) };
    const { amount, currency } = e.amounts.cardholder;
    const approved = e.result === 'APPROVED';
    const debit = e.effective_polarity === 'DEBIT';
    if (NO_MONEY.has(e.type)) continue;
    const linked = purchase;
    const review: LithicEffect = {
      ...base,
      kind: 'review',
      partnerType: e.type,
      amount,
      currency,
      direction: debit ? 'debit' : 'credit',
      linked,
    };
    if (REVIEW.has(e.type)) {
      out.push(review);
      continue;
    }
    if (approved && debit) purchase = true;
    switch (e.type) {
      case 'AUTHORIZATION':
      case 'FINANCIAL_AUTHORIZATION': {
        out.push({
          ...base,
          kind: 'advice',
          approved,
          amount,
          currency,
          ...(approved ? {} : { declineCode: e.result }),
        });
        if (!approved) break;
        hold = (hold ?? 0) + amount;
        // A single-message authorization settles at once: no CLEARING follows.
        if (e.type === 'FINANCIAL_AUTHORIZATION') {
          out.push({ ...base, eventId: `${e.token}:clearing`, kind: 'clearing', amount, currency });
          hold = 0;
        }
        break;
      }
      case 'FINANCIAL_CREDIT_AUTHORIZATION':
        if (approved) out.push({ ...base, kind: 'refund', amount, currency, linked });
        break;
      case 'AUTHORIZATION_ADVICE': {
        // Declined advice (seen after timeouts, following a reversal) changes nothing.
        if (!approved) break;
        if (hold === null) {
          out.push({ ...base, kind: 'advice', approved: true, amount, currency });
        } else if (amount > hold) {
          out.push({ ...base, kind: 'adjustment', amount: amount - hold });
        } else if (amount < hold) {
          out.push({ ...base, kind: 'reversal', amount: hold - amount });
        }
        hold = amount;
        break;
      }
      case 'AUTHORIZATION_REVERSAL':
        if (!approved || amount === 0) break;
        out.push({ ...base, kind: 'reversal', amount });
        hold = Math.max(0, (hold ?? 0) - amount);
        break;
      case 'AUTHORIZATION_EXPIRY':
        out.push({ ...base, kind: 'expiry' });
        hold = 0;
        break;
      case 'CLEARING':
        if (!approved) break;
        // A clearing that credits the cardholder (a credit authorization's) is a refund.
        if (debit) out.push({ ...base, kind: 'clearing', amount, currency });
        else out.push({ ...base, kind: 'refund', amount, currency, linked });
        hold = 0;
        break;
      case 'RETURN':
        if (!approved) break;
        // A return that debits the cardholder is no refund: looked at.
        out.push(debit ? review : { ...base, kind: 'refund', amount, currency, linked });
        break;
      default:
        // A type this version does not know: looked at, never guessed.
        out.push(review);
    }
  }
  return out;
}
