/**
 * The platform's canonical partner events. Every partner adapter normalizes its payloads into
 * these; the vocabulary covers Stripe Issuing's and Lithic's (authorization request / advice /
 * increment / reversal / expiry, clearing, refund, card status).
 */
import type { Merchant } from './authorization';

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
    })
  | (Base & {
      kind: 'authorization.advice';
      transactionId: string;
      amount: number;
      currency: string;
      merchant: Merchant;
      approved: boolean;
      declineCode?: string;
    })
  | (Base & { kind: 'authorization.increment'; transactionId: string; amount: number })
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
  | (Base & { kind: 'card.status'; status: 'active' | 'frozen' | 'canceled'; reason?: string });

export type CanonicalKind = CanonicalEvent['kind'];

/** The transaction_events.type each money event is stored as. */
export const TRANSACTION_EVENT_TYPE: Partial<Record<CanonicalKind, string>> = {
  'authorization.request': 'authorization_request',
  'authorization.advice': 'authorization_advice',
  'authorization.increment': 'authorization_increment',
  'authorization.stand_in': 'authorization_stand_in',
  'authorization.reversal': 'authorization_reversal',
  'authorization.expiry': 'authorization_expiry',
  clearing: 'clearing',
  refund: 'refund',
};

/** Events that the partner waits on for an answer (answered by the `authorize` update, not a signal). */
export const SYNCHRONOUS_KINDS: readonly CanonicalKind[] = [
  'authorization.request',
  'authorization.increment',
];

/** Replaces every run of 12–19 digits (a possible card number) by its last four behind asterisks. */
export function maskCardNumbers(text: string): string {
  return text.replace(/(?<![0-9])[0-9]{12,19}(?![0-9])/g, (m) => `${'*'.repeat(m.length - 4)}${m.slice(-4)}`);
}
