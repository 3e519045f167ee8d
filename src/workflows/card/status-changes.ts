/**
 * Status changes asked for by the app (and anyone else through the same rules): the `changeStatus`
 * update. The state machine decides; a retry with the same request key gets the first answer.
 */
import { decideTransition, type CardStatus } from '../../domain/card-state';
import type { ChangeCardStatusInput, ChangeCardStatusResult } from '../messages';
import { refuse, type CardEntity } from './entity';

export function validateStatusChange(card: CardEntity, req: ChangeCardStatusInput): void {
  if (card.recalled(req.requestKey)) return;
  const s = card.state;
  if (s.status === 'new') refuse('CARD_NOT_ISSUED', 'the card has not been issued');
  const d = decideTransition({ status: s.status, frozenBy: s.frozenBy }, req.transition, req.actor.type);
  if (!d.ok) refuse(d.code, d.reason, { status: s.status, frozenBy: s.frozenBy });
}

export async function changeStatus(
  card: CardEntity,
  req: ChangeCardStatusInput,
): Promise<ChangeCardStatusResult> {
  const earlier = card.recalled<ChangeCardStatusResult>(req.requestKey);
  if (earlier) return earlier;
  validateStatusChange(card, req); // again under the mutex: the card may have moved since the validator ran
  await card.move(req.transition, req.actor, `${req.actor.type}_${req.transition}`, req.reason);
  const s = card.state;
  const result = { cardId: s.cardId, status: s.status as CardStatus, frozenBy: s.frozenBy };
  card.remember(req.requestKey, result);
  return result;
}
