/**
 * The program's stand-in decision, as the card's books take it. When the card did not answer an
 * authorization within the partner's deadline, the partner was answered with the stand-in and acted
 * on it; the card may have decided the same request too (late, or never). The books end as the
 * partner has them, whatever the card decided, and the card's authorization count follows.
 * Pure: the card workflow writes the result.
 */
import type { Merchant } from './authorization';
import { applyMoneyEvent, findEntry, ops, upsert, type Ledger, type LedgerEntry } from './ledger';

export interface StandInEvent {
  kind: 'authorization.stand_in';
  transactionId: string;
  /** It answered an increment of an existing authorization (the amount is the increment). */
  increment?: boolean;
  amount: number;
  currency: string;
  merchant: Merchant;
  approved: boolean;
  occurredAtMs: number;
}

export interface StandInOutcome {
  /** The books after the event. */
  next: { ledger: Ledger; entry: LedgerEntry };
  /** What the card itself had decided for the request (false: declined, or never decided). */
  cardApproved: boolean;
  /**
   * The change to the card's authorization count (maxAuthorizations) once the books take `next`:
   * +1 for a request the partner approved and the card did not, −1 for one the card approved and
   * the partner declined; increments never count.
   */
  approvalsDelta: -1 | 0 | 1;
}

/** The answer an authorize retry of the stand-in's request gets: the one the partner acted on. */
export function standInAnswer(ev: Pick<StandInEvent, 'approved' | 'amount'>) {
  return {
    approved: ev.approved,
    approvedAmount: ev.approved ? ev.amount : 0,
    declineCode: ev.approved ? null : ('STAND_IN' as const),
  };
}

/**
 * @param ours the card's own answer to the request, if it remembers one; otherwise a request the
 *   books show authorized counts as approved by the card (an increment never does).
 */
export function applyStandIn(
  ledger: Ledger,
  ev: StandInEvent,
  cardCurrency: string | null,
  ours: { approved: boolean } | undefined,
): StandInOutcome {
  const cardApproved =
    ours !== undefined
      ? ours.approved
      : !ev.increment && (findEntry(ledger, ev.transactionId)?.authorized ?? 0) > 0;
  const currency = cardCurrency ?? ev.currency;
  if (ev.increment) {
    // The hold grows by what the partner approved and the card did not, or shrinks back by what
    // the card approved and the partner did not.
    const next = upsert(ledger, ev.transactionId, ev.occurredAtMs, currency, (e) =>
      ops.flag(
        ev.approved && !cardApproved
          ? ops.increment(e, ev.amount)
          : !ev.approved && cardApproved
            ? ops.reverse(e, ev.amount)
            : e,
        ev.approved ? 'stand_in' : 'stand_in_release',
      ),
    );
    return { next, cardApproved, approvalsDelta: 0 };
  }
  const approvalsDelta = ev.approved && !cardApproved ? 1 : !ev.approved && cardApproved ? -1 : 0;
  return { next: applyMoneyEvent(ledger, ev, currency), cardApproved, approvalsDelta };
}
