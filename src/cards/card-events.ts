/**
 * The one writer of `card_events` (append-only): a card's state transitions, each once per the
 * event key the card workflow chose, with the `cards` snapshot moved along in the same transaction.
 */
import type { Knex } from 'knex';
import type { ActorType, CardStatus } from '../domain/card-state';

export interface CardEventRow {
  tenantId: string;
  cardId: string;
  from: CardStatus | null;
  to: CardStatus;
  actor: { type: ActorType; id: string };
  cause: string;
  reason?: string | null;
  /** Chosen by the workflow; the same key writes the transition once. */
  eventKey: string;
  occurredAtMs: number;
}

/** Records one transition, once per event key; says whether this call wrote it. */
export async function recordCardEvent(trx: Knex.Transaction, e: CardEventRow): Promise<boolean> {
  const inserted = await trx('card_events')
    .insert({
      tenantId: e.tenantId,
      cardId: e.cardId,
      fromStatus: e.from,
      toStatus: e.to,
      actorType: e.actor.type,
      actorId: e.actor.id,
      cause: e.cause,
      reason: e.reason ?? null,
      eventKey: e.eventKey,
      occurredAt: new Date(e.occurredAtMs),
    })
    .onConflict(['tenantId', 'cardId', 'eventKey'])
    .ignore()
    .returning('id');
  return inserted.length > 0;
}
