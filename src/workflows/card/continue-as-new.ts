/**
 * Continue-as-new: a card lives for years, its history may not. When Temporal suggests it (or a
 * test's event cap is reached) the run ends once its handlers have finished, and the next run
 * starts with the card's state, its idempotency memory included (Temporal's update-id dedupe
 * lasts one run only).
 */
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import { compact } from '../../domain/ledger';
import { windowStart } from '../../domain/time-windows';
import { flushProjections } from './books';
import type { cardWorkflow } from './card-workflow';
import type { CardEntity } from './entity';

export function shouldContinueAsNew(card: CardEntity): boolean {
  const info = workflowInfo();
  const maxEvents = card.settings.maxHistoryEvents ?? 0;
  return info.continueAsNewSuggested || (maxEvents > 0 && info.historyLength >= maxEvents);
}

/** Ends this run; the next one carries the card's state. */
export async function continueAsNewCard(card: CardEntity): Promise<never> {
  await condition(allHandlersFinished);
  await card.exclusive(() => flushProjections(card));
  const s = card.state;
  // Settled transactions older than every spending window only matter for all_time: fold them in.
  const p = s.program;
  if (p) s.ledger = compact(s.ledger, windowStart(Date.now(), 'monthly', p.timeZone, p.weekStartsOn)!);
  return continueAsNew<typeof cardWorkflow>({
    ...card.settings,
    state: { ...s, runsSoFar: s.runsSoFar + 1 },
  });
}
