/**
 * What the card does when its timer fires (the main loop arms it for CardEntity.nextDeadline):
 * the projection flush, each hold's expiry, each override's expiry and the card's own expiry.
 */
import { cardExpiryPending, dueOverrides, lapsedHolds } from '../../domain/card-deadlines';
import type { CanonicalEvent } from '../../domain/events';
import { applyMoneyEvent } from '../../domain/ledger';
import { retireIfSpent } from './authorization';
import { commitMoney, flushProjections } from './books';
import { SYSTEM, type CardEntity } from './entity';
import { revertOverride } from './overrides';

/** Does whatever is due by now; the caller holds the card's mutex. */
export async function processDue(card: CardEntity): Promise<void> {
  const s = card.state;
  const flushAt = card.flushDueAt();
  if (flushAt !== null && flushAt <= Date.now()) await flushProjections(card);

  // A hold the partner never settled lapses: released as an expiry the platform writes itself.
  for (const e of lapsedHolds(s.ledger, card.holdLifetimeMs(), Date.now())) {
    const expiry: CanonicalEvent = {
      kind: 'authorization.expiry',
      eventId: `hold-expiry:${e.id}`,
      // Known once the card is issued, and a card holds nothing before that.
      partner: s.partner ?? '',
      partnerCardId: '',
      transactionId: e.id,
      occurredAtMs: Date.now(),
    };
    if (card.seen(expiry.eventId)) continue;
    await commitMoney(
      card,
      { deliveryId: null, source: 'system', event: expiry },
      applyMoneyEvent(s.ledger, expiry, e.currency),
    );
  }
  await retireIfSpent(card);

  const now = Date.now();
  const { due, remaining } = dueOverrides(s.pendingOverrides, now);
  s.pendingOverrides = remaining;
  for (const o of due) await revertOverride(card, o);

  if (cardExpiryPending(s.status, s.expiresAtMs) && s.expiresAtMs <= now) {
    await card.move('expire', SYSTEM, 'card_expired');
    s.pendingOverrides = [];
  }
}
