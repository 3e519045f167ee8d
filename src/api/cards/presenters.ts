import type { Card, Transaction } from '../../db/models';
import type { CardBalances } from '../../cards/balances';

/** Public JSON of a card: last four digits only, never the number. */
export function presentCard(card: Card, balances: CardBalances) {
  return {
    id: card.id,
    userId: card.userId,
    status: card.status,
    frozenBy: card.frozenBy,
    last4: card.last4,
    expMonth: card.expMonth,
    expYear: card.expYear,
    currency: card.currency,
    controls: card.controls,
    expiresAt: new Date(card.expiresAt).toISOString(),
    partner: card.partner,
    partnerCardId: card.partnerCardId,
    metadata: card.metadata,
    balances,
    createdAt: new Date(card.createdAt).toISOString(),
  };
}

/** Public JSON of a transaction snapshot: amounts in minor units of `currency`. */
export function presentTransaction(t: Transaction) {
  return {
    id: t.id,
    partnerTransactionId: t.partnerTransactionId,
    status: t.status,
    currency: t.currency,
    authorizedAmount: t.authorizedAmount,
    heldAmount: t.heldAmount,
    capturedAmount: t.capturedAmount,
    refundedAmount: t.refundedAmount,
    reversedAmount: t.reversedAmount,
    merchant: t.merchant,
    declineCode: t.declineCode,
    flags: t.flags,
    authorizedAt: t.authorizedAt ? new Date(t.authorizedAt).toISOString() : null,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
}
