/**
 * One long-running workflow per card: an entity workflow in the shape of Temporal's
 * safe-message-handlers sample. This function registers the card's message handlers (before its
 * first await, so nothing delivered with the start is missed) and runs the main loop; the card
 * itself is a CardEntity (entity.ts) that owns the state and the mutex, and each concern is a
 * module acting on it:
 *
 *   issuance.ts         `issue`: the card's row, the partner's card, the parked events
 *   status-changes.ts   `changeStatus`: freeze, unfreeze, cancel through the state machine
 *   overrides.ts        `applyOverride`, and its revert when an override expires
 *   authorization.ts    `authorize`: decisions from the books, the user's weekly cap
 *   partner-events.ts   `partnerEvent`: partner status, money events, stand-ins
 *   books.ts            the money writes all of them share
 *   timers.ts           what is due when the timer fires
 *   continue-as-new.ts  when a run ends and what the next one carries
 *   activities.ts       each activity, local (database) or remote (partner)
 *
 * Every handler that awaits an activity and then changes state runs under the card's mutex, so
 * handlers never interleave; validators run the synchronous checks before an update is accepted.
 * A refused update writes nothing to the history, so nothing may be decided in a workflow task
 * that carried only that update (see RunLength). The card is the only writer of its state;
 * activities persist what it decides.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import { wakesTooLate } from '../../domain/card-deadlines';
import {
  applyOverrideUpdate,
  authorizeUpdate,
  changeStatusUpdate,
  getCardQuery,
  issueUpdate,
  partnerEventSignal,
} from '../messages';
import { decide, validateAuthorize } from './authorization';
import { continueAsNewCard } from './continue-as-new';
import { CardEntity } from './entity';
import { issue, validateIssue } from './issuance';
import { applyOverride, validateOverride } from './overrides';
import { onPartnerEvent } from './partner-events';
import type { CardWorkflowInput } from './state';
import { changeStatus, validateStatusChange } from './status-changes';
import { processDue } from './timers';

export type { CardWorkflowInput, CardWorkflowState } from './state';

/** After a failed pass over the card's deadlines, the next try (the card keeps answering meanwhile). */
const TIMER_RETRY_MS = 60_000;

export async function cardWorkflow({ state, ...settings }: CardWorkflowInput): Promise<void> {
  const card = new CardEntity(settings, state);

  setHandler(getCardQuery, () => card.snapshot());

  // The card is created by update-with-start: a repeated `issue` gets the card as it is.
  setHandler(issueUpdate, (req) => card.exclusive(() => issue(card, req)), {
    validator: (req) => validateIssue(card, req),
  });

  // A retry with the same request key gets the first answer, across runs.
  setHandler(changeStatusUpdate, (req) => card.exclusive(() => changeStatus(card, req)), {
    validator: (req) => validateStatusChange(card, req),
  });

  // Keyed by the admin action: applying an action twice applies it once.
  setHandler(applyOverrideUpdate, (req) => card.exclusive(() => applyOverride(card, req)), {
    validator: (req) => validateOverride(card, req),
  });

  // The partner waits on this answer: a request past its deadline is refused before it is accepted.
  setHandler(authorizeUpdate, (req) => card.exclusive(() => decide(card, req)), {
    validator: (req) => validateAuthorize(card, req),
  });

  // Nobody waits on a signal: a failure is recorded on the delivery, and the card lives on.
  setHandler(partnerEventSignal, (from) => card.exclusive(() => onPartnerEvent(card, from)));

  // The main loop: sleep until the card's next deadline, do what is due, repeat. A handler that
  // moves a deadline earlier (an override with an expiry, the first decision waiting for its
  // write, a new hold, issuance giving the card its expiry) wakes the loop to re-arm the timer;
  // one that moves it later needs nothing (the armed timer fires first and finds nothing due).
  const ending = () => card.runLength.reached();
  for (;;) {
    card.runLength.note(); // where recorded work starts (see RunLength)
    const armed = card.nextDeadline();
    const woken = () => wakesTooLate(card.nextDeadline(), armed) || card.issuanceRefused() || ending();
    if (armed === null) await condition(woken);
    else await condition(woken, Math.max(1, armed - Date.now()));
    if (card.issuanceRefused()) return; // a refused issuance ends the workflow; an issued card lives on
    if (ending()) break;
    try {
      await card.exclusive(() => processDue(card));
    } catch (err) {
      log.error('timer processing failed; retrying in a minute', { error: String(err) });
      await condition(() => ending(), TIMER_RETRY_MS);
    }
  }
  await continueAsNewCard(card);
}
