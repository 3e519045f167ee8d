/**
 * Real-time authorization: the `authorize` update (requests and increments). The card decides from
 * its books and the program's rules (domain/authorization); the user's weekly cap spans all their
 * cards, so it is reserved in the database. A fresh request needing no reservation is answered in
 * the same workflow task, its write handed to the API (see books.ts).
 */
import type { MoneyDecision } from '../../domain/card-records';
import { decideIncrement, decideRequest, type DeclineCode } from '../../domain/authorization';
import {
  allAuthorizationsSettled,
  declinedByUserWeeklyCap,
  partialWithinUserWeeklyCap,
} from '../../domain/card-limits';
import { userSpendItemKey, userSpendOf } from '../../domain/ledger';
import type { AuthorizeInput, AuthorizeResult } from '../messages';
import { db } from './activities';
import { commitFromBooks, commitMoney } from './books';
import { refuse, SYSTEM, type CardEntity } from './entity';

const answerKey = (eventId: string): string => `auth:${eventId}`;

const isAuthorization = (ev: { kind: string }): boolean =>
  ev.kind === 'authorization.request' || ev.kind === 'authorization.increment';

export function validateAuthorize(card: CardEntity, req: AuthorizeInput): void {
  if (!isAuthorization(req.event))
    refuse('VALIDATION_FAILED', 'authorize takes authorization requests and increments');
  // Nobody waits for this answer any more (the stand-in has answered): refused before it is
  // accepted, so nothing is written. A request decided before is answered as it was.
  if (
    req.deadlineAtMs !== undefined &&
    Date.now() > req.deadlineAtMs &&
    !card.recalled(answerKey(req.event.eventId))
  )
    refuse('AUTHORIZATION_TOO_LATE', 'the partner stopped waiting for this decision', {
      lateByMs: Date.now() - req.deadlineAtMs,
    });
}

export async function decide(card: CardEntity, req: AuthorizeInput): Promise<AuthorizeResult> {
  const s = card.state;
  const ev = req.event;
  const key = answerKey(ev.eventId);
  const earlier = card.recalled<AuthorizeResult>(key);
  if (earlier) {
    if (req.deliveryId)
      await card.recordOutcome(
        { deliveryId: req.deliveryId, event: ev, source: 'partner', replay: req.replay },
        'duplicate',
      );
    return { ...earlier, duplicate: true, recordedFor: req.deliveryId };
  }
  if (!isAuthorization(ev))
    refuse('VALIDATION_FAILED', 'authorize takes authorization requests and increments');
  const p = await card.program(req.policyVersion);
  const view = {
    status: s.status,
    currency: s.currency ?? '',
    controls: s.controls!,
    expiresAtMs: s.expiresAtMs ?? 0,
    approvals: s.approvals,
  };
  const answersPartial = req.answersPartial === true;
  let { decision: d, next } =
    ev.kind === 'authorization.request'
      ? decideRequest(view, p, s.ledger, ev, Date.now(), { answersPartial })
      : decideIncrement(view, p, s.ledger, ev, Date.now());
  const userLimit = p.weeklySpendLimit ?? null;
  const reserving = d.approved && userLimit !== null && Boolean(s.userId);
  if (reserving) {
    const reserve = (entry: typeof next.entry) =>
      db.reserveUserSpend({
        tenantId: s.tenantId,
        userId: s.userId!,
        itemKey: userSpendItemKey(ev.partner, ev.transactionId),
        eventKey: `${ev.partner}:${ev.eventId}`,
        weekStartMs: card.weekOf(entry)!,
        contribution: userSpendOf(entry),
        limit: userLimit,
        // The write that follows is the card's next one: an older write of this item arriving
        // after it (an authorization decided from the books) is then not counted again.
        seq: s.moneySeq + 1,
      });
    const r = await reserve(next.entry);
    if (!r.reserved) {
      // The week has room for less: a partner that lets us approve less gets what is left.
      const partial =
        ev.kind === 'authorization.request' && answersPartial && ev.partialApproval === true && d.approved
          ? partialWithinUserWeeklyCap(s.ledger, ev, d.approvedAmount ?? ev.amount, r.spent, userLimit)
          : null;
      const again = partial ? await reserve(partial.next.entry) : null;
      if (partial && again?.reserved) ({ decision: d, next } = partial);
      else
        ({ decision: d, next } = declinedByUserWeeklyCap(s.ledger, ev, again?.spent ?? r.spent, userLimit));
    }
  }
  const answer: AuthorizeResult = d.approved
    ? { approved: true, approvedAmount: d.approvedAmount ?? ev.amount, declineCode: null, duplicate: false }
    : { approved: false, approvedAmount: 0, declineCode: d.declineCode, duplicate: false };
  const decision: MoneyDecision = {
    ...answer,
    reason: d.approved ? undefined : d.reason,
    policyVersion: p.version,
  };
  const from = { deliveryId: req.deliveryId, source: 'partner' as const, event: ev, replay: req.replay };
  const counts = d.approved && ev.kind === 'authorization.request';
  // A fresh request (no earlier delivery of it exists) needs nothing from the database once the
  // rules are loaded: decided from the books and answered in this workflow task, with its write
  // handed to the API and queued here. The books are the truth; the tables follow them.
  if (req.fresh === true && !reserving) {
    const projection = commitFromBooks(card, from, next, decision);
    if (counts) s.approvals += 1;
    const result: AuthorizeResult = { ...answer, recordedFor: req.deliveryId };
    card.remember(key, result);
    return { ...result, projection };
  }
  const committed = await commitMoney(card, from, next, decision);
  let result: AuthorizeResult = { ...answer, recordedFor: req.deliveryId };
  if (!committed.applied && committed.priorDecision) {
    // Decided before (a redelivery past the in-memory window): the same answer again.
    result = {
      ...committed.priorDecision,
      declineCode: committed.priorDecision.declineCode as DeclineCode | null,
      duplicate: true,
      recordedFor: req.deliveryId,
    };
  } else if (committed.applied && counts) s.approvals += 1;
  card.remember(key, result);
  return result;
}

/** A card whose last allowed authorization has settled is retired (see allAuthorizationsSettled). */
export async function retireIfSpent(card: CardEntity): Promise<void> {
  const s = card.state;
  const max = s.controls?.maxAuthorizations ?? null;
  if (
    !allAuthorizationsSettled({
      status: s.status,
      maxAuthorizations: max,
      approvals: s.approvals,
      ledger: s.ledger,
    })
  )
    return;
  await card.move('cancel', SYSTEM, 'max_authorizations_settled', `all ${max} authorization(s) settled`);
}
