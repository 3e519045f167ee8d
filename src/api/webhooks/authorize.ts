import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { CanonicalEvent } from '../../domain/events';
import { currentPolicy } from '../../services/policies';
import { signalCard, type CardWorkflowConfig } from '../../services/card-workflows';
import { authorizeUpdate, type AuthorizeResult } from '../../workflows/messages';
import { cardWorkflowId } from '../../domain/ids';

export interface Answer {
  approved: boolean;
  approvedAmount?: number;
  declineCode?: string;
}

const toAnswer = (r: AuthorizeResult): Answer =>
  r.approved
    ? { approved: true, approvedAmount: r.approvedAmount }
    : { approved: false, declineCode: r.declineCode ?? undefined };

/**
 * Answers a synchronous authorization within the program's deadline. The card workflow decides
 * (it is the only writer of the card's balance); if it has not answered in time, the program's
 * stand-in decision is the answer, recorded as STAND_IN, and when the workflow's own decision
 * arrives later and differs, the books are corrected to what the partner was told.
 */
export async function authorizeWithDeadline(
  deps: { knex: Knex; temporal: Client; cards: CardWorkflowConfig; log: Logger },
  req: { tenantId: string; deliveryId: string; event: CanonicalEvent; cardId: string | null },
): Promise<Answer> {
  const { knex } = deps;
  const ev = req.event as Extract<
    CanonicalEvent,
    { kind: 'authorization.request' | 'authorization.increment' }
  >;
  const record = (o: string, details: object) =>
    knex('webhook_outcomes').insert({
      tenantId: req.tenantId,
      deliveryId: req.deliveryId,
      outcome: o,
      eventId: ev.eventId,
      eventType: ev.kind,
      cardId: req.cardId,
      details: JSON.stringify(details),
    });
  if (!req.cardId) {
    await record('ignored', {
      reason: 'unknown card',
      decision: { approved: false, declineCode: 'CARD_NOT_ACTIVE' },
    });
    return { approved: false, declineCode: 'CARD_NOT_ACTIVE' };
  }
  const { policy } = await currentPolicy(knex, req.tenantId);
  const update = deps.temporal.workflow
    .getHandle(cardWorkflowId(req.tenantId, req.cardId))
    .executeUpdate(authorizeUpdate, {
      updateId: `auth:${ev.eventId}`,
      args: [{ deliveryId: req.deliveryId, event: ev }],
    });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), policy.authorizationTimeoutMs);
  });
  const first = await Promise.race([
    update.then(
      (r) => ({ r }),
      (err: unknown) => ({ err }),
    ),
    deadline,
  ]).finally(() => clearTimeout(timer));
  if (first !== 'deadline' && 'r' in first) return toAnswer(first.r);

  // Stand-in: the workflow did not answer in time (or could not be reached).
  const standIn: Answer =
    policy.standInDecision === 'approve'
      ? { approved: true, approvedAmount: ev.amount }
      : { approved: false, declineCode: 'STAND_IN' };
  await record('applied', {
    standIn: true,
    decision: standIn,
    reason:
      first === 'deadline'
        ? `no decision within ${policy.authorizationTimeoutMs} ms`
        : String((first as { err: unknown }).err),
  });
  const cardId = req.cardId;
  void update.then(
    async (late) => {
      await record('applied', {
        lateDecision: late,
        standIn: standIn.approved,
        differs: late.approved !== standIn.approved,
      });
      if (late.approved === standIn.approved || ev.kind !== 'authorization.request') return;
      // The partner acted on the stand-in: make the card's books match what the partner was told.
      const correction: CanonicalEvent = late.approved
        ? {
            ...ev,
            kind: 'authorization.reversal',
            eventId: `${ev.eventId}:stand-in-release`,
            amount: late.approvedAmount,
          }
        : { ...ev, kind: 'authorization.advice', eventId: `${ev.eventId}:stand-in-approval`, approved: true };
      await signalCard(deps.temporal, deps.cards, req.tenantId, cardId, {
        deliveryId: null,
        event: correction,
        source: 'partner',
      });
    },
    (err: unknown) =>
      deps.log.error({ err: String(err), deliveryId: req.deliveryId }, 'late authorization decision failed'),
  );
  return standIn;
}
