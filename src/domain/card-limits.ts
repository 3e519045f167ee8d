/**
 * Two authorization rules the card applies around a decision: the user's weekly cap refusing an
 * approval the card's own rules gave, and the retirement of a card whose last allowed
 * authorization has settled. Pure.
 */
import type { AuthorizationDecision, Merchant } from './authorization';
import type { CardStatus } from './card-state';
import { findEntry, heldOf, ops, upsert, type Ledger, type LedgerEntry } from './ledger';

/**
 * The user's weekly spend (all their cards, reserved in the database) has no room for `amount`:
 * the approval becomes a decline, and the books record it (a request's entry is declined; an
 * increment's entry stays as it was).
 */
export function declinedByUserWeeklyCap(
  ledger: Ledger,
  ev:
    | {
        kind: 'authorization.request';
        transactionId: string;
        amount: number;
        currency: string;
        merchant: Merchant;
        occurredAtMs: number;
      }
    | { kind: 'authorization.increment'; transactionId: string; amount: number },
  spent: number,
  limit: number,
): { decision: AuthorizationDecision; next: { ledger: Ledger; entry: LedgerEntry } } {
  const decision: AuthorizationDecision = {
    approved: false,
    declineCode: 'EXCEEDS_USER_WEEKLY_LIMIT',
    reason: `the user's weekly spend ${spent} + ${ev.amount} would exceed ${limit}`,
  };
  if (ev.kind === 'authorization.increment')
    return { decision, next: { ledger, entry: findEntry(ledger, ev.transactionId)! } };
  return {
    decision,
    next: upsert(ledger, ev.transactionId, ev.occurredAtMs, ev.currency, (e) =>
      ops.decline(e, 'EXCEEDS_USER_WEEKLY_LIMIT', ev.merchant),
    ),
  };
}

/**
 * A card limited to N authorizations is retired (canceled) once it has approved N and none of
 * them holds anything any more (each captured, reversed or expired): nothing more can be
 * approved on it. A card already final is left alone.
 */
export function allAuthorizationsSettled(card: {
  status: CardStatus | 'new';
  maxAuthorizations: number | null;
  approvals: number;
  ledger: Ledger;
}): boolean {
  if (card.maxAuthorizations === null || card.approvals < card.maxAuthorizations) return false;
  if (card.status !== 'active' && card.status !== 'frozen') return false;
  return card.ledger.entries.every((e) => heldOf(e) === 0);
}

/**
 * A request approved in full or in part that the user's weekly cap has no room for, when the
 * partner lets the platform approve less (`partialApproval`, and a caller that answers with the
 * approved amount): approved for what the week leaves (`limit − spent`), if that covers the cash
 * back and is more than nothing. Null: no partial approval fits (decline as before). The card's
 * own rules passed at the larger amount, so they pass at this smaller one.
 */
export function partialWithinUserWeeklyCap(
  ledger: Ledger,
  ev: {
    transactionId: string;
    amount: number;
    currency: string;
    merchant: Merchant;
    occurredAtMs: number;
    cashbackAmount?: number;
  },
  approvedAmount: number,
  spent: number,
  limit: number,
): { decision: AuthorizationDecision; next: { ledger: Ledger; entry: LedgerEntry } } | null {
  const room = limit - spent;
  const floor = Math.max(1, ev.cashbackAmount ?? 0);
  if (!Number.isSafeInteger(room) || room < floor || room >= approvedAmount) return null;
  return {
    decision: { approved: true, approvedAmount: room },
    next: upsert(ledger, ev.transactionId, ev.occurredAtMs, ev.currency, (e) =>
      ops.authorize(e, room, ev.merchant),
    ),
  };
}
