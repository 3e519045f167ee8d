/**
 * Asynchronous partner events: the `partnerEvent` signal (webhook deliveries through the outbox
 * relay, an operator's replay, reconciliation's fixes) and the parked events issuance claims.
 * Each is applied once, by its meaning rather than its arrival order, and its delivery's outcome
 * recorded.
 */
import { log } from '@temporalio/workflow';
import { partnerStatusChange } from '../../domain/partner-status';
import { applyStandIn, standInAnswer } from '../../domain/stand-in';
import { adviceApprovalsDelta, applyMoneyEvent, findEntry } from '../../domain/ledger';
import type { CanonicalEvent } from '../../domain/events';
import type { AuthorizeResult, PartnerEventInput } from '../messages';
import { decide, retireIfSpent } from './authorization';
import { commitMoney } from './books';
import type { CardEntity } from './entity';

/** The signal's handler: a signal has no caller to tell, so a failure is recorded on the delivery. */
export async function onPartnerEvent(card: CardEntity, from: PartnerEventInput): Promise<void> {
  try {
    await applyPartnerEvent(card, from);
    await retireIfSpent(card);
  } catch (err) {
    // Recorded on the delivery (replayable); the card lives on.
    log.error('partner event failed', { eventId: from.event.eventId, error: String(err) });
    await card.recordOutcome(from, 'failed', undefined, String(err).slice(0, 1000));
  }
}

export async function applyPartnerEvent(
  card: CardEntity,
  from: PartnerEventInput,
  opts: { quietDuplicate?: boolean } = {},
): Promise<void> {
  const ev = from.event;
  if (card.seen(ev.eventId)) {
    // The same delivery handed over twice (relay retry, or claim and relay) is no news.
    if (opts.quietDuplicate || (!from.replay && card.appliedBy(ev.eventId) === from.deliveryId)) return;
    return card.recordOutcome(from, 'duplicate');
  }
  switch (ev.kind) {
    case 'card.status':
      return applyPartnerStatus(card, from, ev);
    case 'authorization.request':
    case 'authorization.increment':
      // Synchronous kinds arrive through the authorize update; a replayed one is answered the same way.
      await decide(card, { deliveryId: from.deliveryId, event: ev, replay: from.replay });
      return;
    case 'authorization.stand_in':
      return applyStandInEvent(card, from, ev);
    default: {
      const s = card.state;
      // The partner's decision on an authorization counts as the card's own: an advice that
      // approves what the card had not approved, or declines what it had, moves its approvals.
      const delta =
        ev.kind === 'authorization.advice'
          ? adviceApprovalsDelta(findEntry(s.ledger, ev.transactionId), ev.approved)
          : 0;
      const committed = await commitMoney(
        card,
        from,
        applyMoneyEvent(s.ledger, ev, s.currency ?? ('currency' in ev ? ev.currency : 'USD')),
      );
      if (committed.applied && delta !== 0) s.approvals = Math.max(0, s.approvals + delta);
    }
  }
}

async function applyPartnerStatus(
  card: CardEntity,
  from: PartnerEventInput,
  ev: Extract<CanonicalEvent, { kind: 'card.status' }>,
): Promise<void> {
  const s = card.state;
  const current = s.status;
  const change = partnerStatusChange(s, ev);
  card.markSeen(ev.eventId, from.deliveryId); // whatever it changes: judged once
  switch (change.kind) {
    case 'stale':
      return card.recordOutcome(from, 'ignored', {
        reason: 'stale: older than the card’s last status change',
      });
    case 'unchanged':
      s.statusChangedAtMs = change.statusChangedAtMs;
      return card.recordOutcome(from, 'ignored', { reason: `no change: the card is ${current}` });
    case 'refused':
      return card.recordOutcome(from, 'ignored', { reason: `refused: ${change.reason}`, code: change.code });
    case 'apply': {
      // A fix from reconciliation is the partner's word too, marked as found by reconciliation.
      const by = from.source === 'reconciliation' ? `reconciliation:${ev.partner}` : ev.partner;
      await card.transition(
        change.to,
        change.frozenBy,
        { type: 'partner', id: by },
        `partner_${change.transition}`,
        ev.reason,
      );
      s.statusChangedAtMs = change.statusChangedAtMs;
      return card.recordOutcome(from, 'applied', { from: current, to: change.to });
    }
  }
}

/**
 * The partner was answered with the stand-in: a later (or earlier) decision of ours for the same
 * request must not change the books, and an authorize retry must get the same answer.
 */
async function applyStandInEvent(
  card: CardEntity,
  from: PartnerEventInput,
  ev: Extract<CanonicalEvent, { kind: 'authorization.stand_in' }>,
): Promise<void> {
  const s = card.state;
  const key = `auth:${ev.requestEventId}`;
  const ours = card.recalled<AuthorizeResult>(key);
  card.remember(key, { ...standInAnswer(ev), duplicate: false } satisfies AuthorizeResult);
  const { next, approvalsDelta } = applyStandIn(s.ledger, ev, s.currency, ours);
  const committed = await commitMoney(card, from, next);
  // The card's authorization count follows what the partner acted on.
  if (committed.applied) s.approvals = Math.max(0, s.approvals + approvalsDelta);
}
