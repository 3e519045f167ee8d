/**
 * The card's books and their writes. The books (the ledger in the card's state) are the truth;
 * the money tables follow them: each change is written once, as the card's next numbered write,
 * either before the books take it (commitMoney) or, for a decision answered from the books alone,
 * after (commitFromBooks queues it; the API writes it as it answers, and flushProjections makes
 * sure it is on record).
 */
import type { MoneyDecision, RecordMoneyEventInput } from '../../domain/card-records';
import type { CanonicalEvent } from '../../domain/events';
import { flagsOf, heldOf, statusOf, userSpendOf, type Ledger, type LedgerEntry } from '../../domain/ledger';
import type { PartnerEventInput } from '../messages';
import { db } from './activities';
import type { CardEntity } from './entity';

/** Where a money event came from. */
export interface EventOrigin {
  deliveryId: string | null;
  source: PartnerEventInput['source'];
  event: CanonicalEvent;
  /** An operator's replay of the delivery. */
  replay?: boolean;
}

/** The books after an event, with the entry it changed. */
export interface BooksAfter {
  ledger: Ledger;
  entry: LedgerEntry;
}

/** The card's next money write (its sequence number taken). */
function nextWrite(card: CardEntity, from: EventOrigin, next: BooksAfter, decision?: MoneyDecision) {
  const s = card.state;
  s.moneySeq += 1;
  const weekStartMs = card.weekOf(next.entry);
  return {
    tenantId: s.tenantId,
    cardId: s.cardId,
    deliveryId: from.deliveryId,
    source: from.source,
    event: from.event,
    entry: {
      ...next.entry,
      held: heldOf(next.entry),
      status: statusOf(next.entry),
      allFlags: flagsOf(next.entry),
    },
    decision,
    commitKey: `m${s.moneySeq}`,
    seq: s.moneySeq,
    ...(from.replay ? { replay: true } : {}),
    userSpend:
      s.userId && weekStartMs !== null
        ? { userId: s.userId, weekStartMs, contribution: userSpendOf(next.entry) }
        : undefined,
  } satisfies RecordMoneyEventInput;
}

/** Writes a money event once and, only if this call wrote it, takes the new books. */
export async function commitMoney(
  card: CardEntity,
  from: EventOrigin,
  next: BooksAfter,
  decision?: MoneyDecision,
) {
  const s = card.state;
  // The week needs the program's time zone: load the rules if this card has none yet (a refresh
  // here would undo the authorization path's policy-version check and reload every 10 s).
  if (s.userId && !s.program) await card.program();
  const result = await db.recordMoneyEvent(nextWrite(card, from, next, decision));
  if (result.applied) s.ledger = next.ledger;
  card.markSeen(from.event.eventId, from.deliveryId);
  return result;
}

/** Takes the new books at once; the write is queued (see flushProjections) and returned for the API. */
export function commitFromBooks(
  card: CardEntity,
  from: EventOrigin,
  next: BooksAfter,
  decision: MoneyDecision,
): RecordMoneyEventInput {
  const s = card.state;
  const projection = nextWrite(card, from, next, decision);
  s.ledger = next.ledger;
  s.unprojected.push({ ...projection, decidedAtMs: Date.now() });
  card.markSeen(from.event.eventId, from.deliveryId);
  return projection;
}

/**
 * Makes sure the decisions taken from the books are on record (the API wrote them as it
 * answered, unless it died first). Writes in any order are safe (see writeMoneyEvent).
 */
export async function flushProjections(card: CardEntity): Promise<void> {
  const queued = card.state.unprojected;
  if (!queued.length) return;
  const items = queued.slice();
  await db.projectMoneyEvents({ items });
  queued.splice(0, items.length);
}
