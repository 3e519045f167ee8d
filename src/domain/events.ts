/**
 * The platform's canonical partner events. Every partner adapter normalizes its payloads into
 * these; the vocabulary covers the sandbox's, Stripe Issuing's and Lithic's (authorization request
 * / advice / increment / adjustment / reversal / expiry, clearing, refund, review, card status).
 * What each partner's payload becomes is in partners.md §5.3.
 */
import type { Merchant } from './authorization';
import { isAcceptedAmount } from './money';

interface Base {
  /** The partner's event id: the dedupe key. */
  eventId: string;
  partner: string;
  partnerCardId: string;
  /** When the partner says it happened (ms since epoch), not when we received it. */
  occurredAtMs: number;
}

export type CanonicalEvent =
  | (Base & {
      kind: 'authorization.request';
      transactionId: string;
      amount: number;
      currency: string;
      merchant: Merchant;
      /**
       * The partner takes an approval of less than `amount` (Stripe `is_amount_controllable`, Lithic
       * `partial_approval_capable`): a request over a limit may be approved for what the limits leave.
       */
      partialApproval?: boolean;
      /** The part of `amount` that is cash back: a partial approval must still cover all of it. */
      cashbackAmount?: number;
    })
  | (Base & {
      /**
       * The partner's decision on an authorization. It decided alone (Stripe's spending controls, a
       * Lithic decline before Auth Stream Access, a sandbox stand-in), or it asked the platform first
       * and this is its final word (Stripe `issuing_authorization.created`, Lithic's AUTHORIZATION
       * event after ASA). Either way the books end as the partner decided: on a transaction the card
       * decided itself it confirms that decision or corrects it, and is never added to it (see
       * `ops.advise`). The card knows from its own books whether it decided the transaction.
       */
      kind: 'authorization.advice';
      transactionId: string;
      amount: number;
      currency: string;
      merchant: Merchant;
      approved: boolean;
      declineCode?: string;
      /**
       * The partner says it asked the platform in real time before deciding (Stripe: a
       * `request_history` reason `webhook_*`); false: it says it did not; absent: it does not say
       * (Lithic). For the record (a confirmation vs a discrepancy); the books do not depend on it.
       */
      requested?: boolean;
    })
  | (Base & { kind: 'authorization.increment'; transactionId: string; amount: number })
  | (Base & {
      /**
       * A hold change the partner decided on an existing authorization, without asking the
       * platform: Lithic's AUTHORIZATION_ADVICE above the previous total, a Stripe authorization
       * whose amount rose with no request we answered (fuel pumps). `amount` is the rise (the
       * adapter turns Lithic's new total into it); a fall is an `authorization.reversal`. Applied
       * like advice: the partner holds it, whatever the card's limits say.
       */
      kind: 'authorization.adjustment';
      transactionId: string;
      amount: number;
    })
  | (Base & {
      /**
       * Written by the platform, not a partner: the partner was answered with the program's
       * stand-in decision (the card did not decide within the deadline), so the card's books must
       * show what the partner acted on, whatever the card decides later.
       */
      kind: 'authorization.stand_in';
      /** The request the stand-in answered. */
      requestEventId: string;
      /** It answered an increment of an existing authorization (the amount is the increment). */
      increment?: boolean;
      transactionId: string;
      amount: number;
      currency: string;
      merchant: Merchant;
      approved: boolean;
    })
  | (Base & { kind: 'authorization.reversal'; transactionId: string; amount: number })
  | (Base & { kind: 'authorization.expiry'; transactionId: string })
  | (Base & { kind: 'clearing'; transactionId: string; amount: number; currency: string })
  | (Base & { kind: 'refund'; refundId: string; transactionId?: string; amount: number; currency: string })
  | (Base & {
      /**
       * A partner event about a transaction's money that no rule applies safely (Lithic
       * RETURN_REVERSAL, CORRECTION_CREDIT / _DEBIT, a Stripe capture with a positive amount): no
       * money moves; the transaction is flagged `manual_review` for an operator, with what the
       * partner said.
       */
      kind: 'transaction.review';
      transactionId: string;
      /** The partner's own name for what happened (`RETURN_REVERSAL`, …). */
      partnerType: string;
      reason: string;
      amount: number;
      currency: string;
      /** Which way the money would move for the cardholder: debit (spent) or credit (returned). */
      direction?: 'debit' | 'credit';
    })
  | (Base & {
      kind: 'card.status';
      status: 'active' | 'frozen' | 'canceled';
      reason?: string;
      /**
       * The card's status at the partner before this change, where the partner says (Stripe
       * `previous_attributes.status`, Lithic `previous_fields.state`): for the record. Partners
       * stamp these events in whole seconds or not at all, so adapters date them at the end of the
       * second they name; that, not this field, keeps a change made in the same second as the
       * card's own from looking older. (Taking "from the card's current status" as news whatever
       * its time would apply a freeze delivered after the unfreeze that followed it.)
       */
      previousStatus?: 'active' | 'frozen' | 'canceled';
    });

export type CanonicalKind = CanonicalEvent['kind'];

/** The kinds that move (or flag) a transaction's money: all but card status. */
export type MoneyKind = Exclude<CanonicalKind, 'card.status'>;

/** The transaction_events.type each money event is stored as (every money kind has one). */
export const TRANSACTION_EVENT_TYPE: Partial<Record<CanonicalKind, string>> = {
  'authorization.request': 'authorization_request',
  'authorization.advice': 'authorization_advice',
  'authorization.increment': 'authorization_increment',
  'authorization.adjustment': 'authorization_adjustment',
  'authorization.stand_in': 'authorization_stand_in',
  'authorization.reversal': 'authorization_reversal',
  'authorization.expiry': 'authorization_expiry',
  clearing: 'clearing',
  refund: 'refund',
  'transaction.review': 'transaction_review',
} satisfies Record<MoneyKind, string>;

/** Events that the partner waits on for an answer (answered by the `authorize` update, not a signal). */
export const SYNCHRONOUS_KINDS: readonly CanonicalKind[] = [
  'authorization.request',
  'authorization.increment',
];

/** Replaces every run of 12–19 digits (a possible card number) by its last four behind asterisks. */
export function maskCardNumbers(text: string): string {
  return text.replace(/(?<![0-9])[0-9]{12,19}(?![0-9])/g, (m) => `${'*'.repeat(m.length - 4)}${m.slice(-4)}`);
}

/** An event's amounts that are not within the platform's accepted range (field name → value). */
export function amountsOutOfRange(e: CanonicalEvent): Array<{ field: string; amount: number }> {
  const out: Array<{ field: string; amount: number }> = [];
  for (const field of ['amount', 'cashbackAmount'] as const) {
    const v = (e as Partial<Record<typeof field, unknown>>)[field];
    if (v !== undefined && !isAcceptedAmount(Math.abs(Number(v)))) out.push({ field, amount: Number(v) });
  }
  return out;
}
