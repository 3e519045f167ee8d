import type { Card } from '../../db/models';
import type { CardBalances } from '../../services/cards';

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
