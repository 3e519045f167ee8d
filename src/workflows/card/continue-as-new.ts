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

/**
 * Whether this run should end, judged by Temporal's history length and continue-as-new suggestion
 * as of the last workflow task that brought the card recorded work (a signal, an accepted update,
 * the loop's timer). Read live in the loop's condition they would also move in a workflow task
 * that carries only an update its validator rejected: the history keeps no trace of that update,
 * so a timer canceled and a continue-as-new decided there would not replay.
 */
export class RunLength {
  private historyLength = 0;
  private suggested = false;

  constructor(private readonly maxHistoryEvents: number) {}

  /** Called where recorded work starts: a message handler (not a validator or a query), a pass of the loop. */
  note(): void {
    const info = workflowInfo();
    this.historyLength = info.historyLength;
    this.suggested = info.continueAsNewSuggested;
  }

  reached(): boolean {
    return this.suggested || (this.maxHistoryEvents > 0 && this.historyLength >= this.maxHistoryEvents);
  }
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
