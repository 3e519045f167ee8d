import type { Knex } from 'knex';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { CanonicalEvent } from '../domain/events';
import type { ProgramPolicy } from '../domain/policy';
import { currentPolicy } from '../policies/current';
import type { CardWorkflowConfig } from '../temporal/card-client';
import { authorizeUpdate, type AuthorizeResult } from '../workflows/messages';
import { cardWorkflowId } from '../domain/ids';
import { writeMoneyEvent } from '../cards/money-events';
import type { RecordMoneyEventInput } from '../domain/card-records';
import type { AuthorizationAnswer } from '../partners/adapter';
import { preparedStatement } from '../db/prepared';
import { outcomeBindings, recordOutcome, supersedingOutcomeSql } from './outcomes';

/** The platform's answer to an authorization request (its partner's adapter formats it). */
export type Answer = AuthorizationAnswer;

const toAnswer = (r: AuthorizeResult): Answer =>
  r.approved
    ? { approved: true, approvedAmount: r.approvedAmount }
    : { approved: false, declineCode: r.declineCode ?? undefined };

/** Left for the stand-in's own write (its outcome and its outbox row, one statement) inside the deadline. */
const STAND_IN_WRITE_MS = 50;
/**
 * The answer leaves this much before the program's deadline: the partner's clock started before
 * the request reached this handler (connection, parsing, a busy event loop), and the answer still
 * has to travel back. Measured under overload (bench:auth at 100/s), stand-ins given at the full
 * deadline reached the partner up to 42 ms late.
 */
const ANSWER_MARGIN_MS = 100;

/**
 * The program's deadline and stand-in decision, read at most once a second per tenant: this is on
 * every authorization's path, and a policy change may take a second to reach it.
 */
const rulesCache = new Map<
  string,
  {
    at: number;
    rules: Pick<ProgramPolicy, 'authorizationTimeoutMs' | 'standInDecision'> & { version: number };
  }
>();
async function deadlineRules(knex: Knex, tenantId: string) {
  const hit = rulesCache.get(tenantId);
  if (hit && Date.now() - hit.at < 1_000) return hit.rules;
  const { version, policy } = await currentPolicy(knex, tenantId);
  const rules = {
    version,
    authorizationTimeoutMs: policy.authorizationTimeoutMs,
    standInDecision: policy.standInDecision,
  };
  if (rulesCache.size > 10_000) rulesCache.clear();
  rulesCache.set(tenantId, { at: Date.now(), rules });
  return rules;
}

/** `p`'s value, or 'late' if it has not settled by `atMs` (epoch ms). */
async function byOrLate<T>(p: Promise<T>, atMs: number): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, atMs - Date.now()));
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Writes a decision the card took from its books (the event, the transaction's snapshot, the
 * delivery's outcome), waiting at most until `by` (epoch ms; null: no bound). A failed or slow
 * write is not the partner's problem: the card makes the same write itself shortly after.
 */
async function writeProjection(
  deps: { knex: Knex; log: Logger },
  projection: RecordMoneyEventInput,
  by: number | null,
): Promise<void> {
  await settleBy(deps.log, writeMoneyEvent(deps.knex, projection), by, {
    deliveryId: projection.deliveryId,
    failed: 'decision answered; its write is left to the card',
    failedLevel: 'warn',
    late: 'decision answered before its write finished',
  });
}

/**
 * Waits for a write that goes with an answer at most until `by` (epoch ms; null: no bound). Its
 * failure or lateness is logged, never thrown: the answer goes out either way.
 */
async function settleBy(
  log: Logger,
  write: Promise<unknown>,
  by: number | null,
  o: { deliveryId: string | null; failed: string; failedLevel?: 'warn' | 'error'; late: string },
): Promise<void> {
  const settled = write.then(
    () => 'written' as const,
    (err: unknown) => {
      log[o.failedLevel ?? 'error']({ err: String(err), deliveryId: o.deliveryId }, o.failed);
      return 'failed' as const;
    },
  );
  if (by === null) await settled;
  else if ((await byOrLate(settled, by)) === 'late') log.warn({ deliveryId: o.deliveryId }, o.late);
}

/**
 * The outcome of a delivery the card did not record (its request was decided as another
 * delivery), written unless the card wrote one for it; bounded like a decision's write. Says
 * whether it wrote one ('present': the card had written it).
 */
async function recordDuplicate(
  deps: { knex: Knex; log: Logger },
  req: {
    tenantId: string;
    deliveryId: string;
    event: CanonicalEvent;
    cardId: string | null;
    replay?: boolean;
  },
  decision: Answer,
  by: number,
): Promise<'written' | 'present' | 'unknown'> {
  let inserted: boolean | undefined;
  const write = recordOutcome(
    deps.knex,
    {
      tenantId: req.tenantId,
      deliveryId: req.deliveryId,
      outcome: 'duplicate',
      eventId: req.event.eventId,
      eventType: req.event.kind,
      cardId: req.cardId,
      details: req.replay ? { decision, replay: true } : { decision },
    },
    { unlessRecorded: true },
  ).then((wrote) => (inserted = wrote));
  await settleBy(deps.log, write, by, {
    deliveryId: req.deliveryId,
    failed: 'redelivery answered; its outcome failed',
    late: 'redelivery answered before its outcome was written',
  });
  // (Unknown: the write failed or is still going; logged above.)
  return inserted === undefined ? 'unknown' : inserted ? 'written' : 'present';
}

/**
 * Answers a synchronous authorization within the program's deadline. The card workflow decides
 * (it is the only writer of the card's balance); if it has not answered in time, the program's
 * stand-in decision is the answer, recorded as STAND_IN, and when the workflow's own decision
 * arrives later and differs, the books are corrected to what the partner was told.
 */
export async function authorizeWithDeadline(
  deps: { knex: Knex; temporal: Client; cards: CardWorkflowConfig; log: Logger },
  req: {
    tenantId: string;
    deliveryId: string;
    event: CanonicalEvent;
    cardId: string | null;
    /** When the partner's request arrived: the deadline counts from there. */
    receivedAtMs?: number;
    /** An operator's replay of a stored request: nobody acts on this answer, so no stand-in is booked. */
    replay?: boolean;
    /** The event id was stored for the first time (see AuthorizeInput.fresh). */
    fresh?: boolean;
    /** How long the partner waits (its adapter's `answerDeadlineMs`): the program's timeout is cut to it. */
    partnerDeadlineMs?: number;
  },
  /** Filled with where the time went (ms): the card's answer, and the API's write of it; and whether a stand-in answered. */
  timing: { card?: number; write?: number; standIn?: boolean } = {},
): Promise<Answer> {
  const { knex } = deps;
  // Every answer says whether this delivery's outcome is a duplicate of another's (an operator's
  // replay reprocesses a stored delivery: not a delivery of its own, so not said).
  const told = ({ duplicate, ...a }: Answer): Answer => (req.replay ? a : { ...a, duplicate });
  // A replay's outcomes are a later pass's, marked so (outside the one-final-outcome rule).
  const withReplay = (details: Record<string, unknown>) =>
    req.replay ? { ...details, replay: true } : details;
  const ev = req.event as Extract<
    CanonicalEvent,
    { kind: 'authorization.request' | 'authorization.increment' }
  >;
  const record = (outcome: 'applied' | 'ignored', details: Record<string, unknown>) =>
    recordOutcome(knex, {
      tenantId: req.tenantId,
      deliveryId: req.deliveryId,
      outcome,
      eventId: ev.eventId,
      eventType: ev.kind,
      cardId: req.cardId,
      details: withReplay(details),
    });
  if (!req.cardId) {
    await record('ignored', {
      reason: 'unknown card',
      decision: { approved: false, declineCode: 'CARD_NOT_ACTIVE' },
    });
    return told({ approved: false, declineCode: 'CARD_NOT_ACTIVE', duplicate: false });
  }
  const policy = await deadlineRules(knex, req.tenantId);
  // The partner's clock started when its request arrived; the stand-in's own writes need a little.
  const timeoutMs = Math.min(policy.authorizationTimeoutMs, req.partnerDeadlineMs ?? Infinity);
  const answerBy = (req.receivedAtMs ?? Date.now()) + timeoutMs - ANSWER_MARGIN_MS;
  const deadlineAt = answerBy - STAND_IN_WRITE_MS;
  const handle = deps.temporal.workflow.getHandle(cardWorkflowId(req.tenantId, req.cardId));
  const started = performance.now();
  // The same update id every attempt: a retry reaches the same decision, never a second one.
  const attempt = (): Promise<AuthorizeResult> =>
    handle.executeUpdate(authorizeUpdate, {
      updateId: `auth:${ev.eventId}`,
      args: [
        {
          deliveryId: req.deliveryId,
          event: ev,
          policyVersion: policy.version,
          // Past it the card refuses the request unseen: the stand-in is the answer by then.
          ...(req.replay ? {} : { deadlineAtMs: deadlineAt }),
          ...(req.fresh ? { fresh: true } : {}),
          ...(req.replay ? { replay: true } : {}),
          // The partner's adapter formats the answer with the approved amount (a partial approval
          // where the partner allows one); a replay's answer is heard by no one.
          ...(req.replay ? {} : { answersPartial: true }),
        },
      ],
    });
  // A refused call (the server's per-workflow limit on updates in flight, a connection blip) is
  // tried again while the deadline allows; only then does the stand-in answer.
  const update = (async () => {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        // The card refused or is gone: trying again cannot help.
        if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) throw err;
        const wait = Math.min(200, 20 * 2 ** n);
        if (Date.now() + wait >= deadlineAt) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  })();
  const first = await byOrLate(
    update.then(
      (r) => ({ r }),
      (err: unknown) => ({ err }),
    ),
    deadlineAt,
  );
  if (first !== 'late' && 'r' in first) {
    timing.card = performance.now() - started;
    // Decided from the card's books: its write is ours to make before the answer leaves, so what
    // the partner is told is on record when it (or the app) asks next. Bounded by the deadline:
    // the card writes it too, a moment later.
    if (first.r.projection) {
      const w0 = performance.now();
      await writeProjection(deps, first.r.projection, answerBy);
      timing.write = performance.now() - w0;
    }
    const r = first.r;
    const answer = toAnswer(r);
    // Another delivery of the request is usually answered by Temporal itself (same update id),
    // so the card never sees it: its outcome is written here. Whichever delivery reached the card
    // first is the one it decided, not necessarily the one stored first.
    const recordedFor = r.recordedFor !== undefined ? r.recordedFor : r.projection?.deliveryId;
    if (recordedFor === req.deliveryId) return told({ ...answer, duplicate: r.duplicate });
    // Recorded for another delivery, or not said (a worker on older code, which writes the
    // outcome of the delivery it decided before it answers): one outcome for this one either way.
    const mine = await recordDuplicate(deps, req, answer, answerBy);
    return told({ ...answer, duplicate: mine === 'present' ? r.duplicate : true });
  }
  if (first !== 'late' && first.err instanceof WorkflowNotFoundError) {
    // The card's workflow has ended (a canceled or expired card): nothing can be approved on it.
    await record('applied', {
      reason: 'the card is closed',
      decision: { approved: false, declineCode: 'CARD_NOT_ACTIVE' },
    });
    return told({ approved: false, declineCode: 'CARD_NOT_ACTIVE', duplicate: false });
  }

  // Stand-in: the workflow did not answer in time (or could not be reached).
  const standIn: Answer =
    policy.standInDecision === 'approve'
      ? { approved: true, approvedAmount: ev.amount }
      : { approved: false, declineCode: 'STAND_IN' };
  // The partner acts on the stand-in, so the card's books must show it whatever the card decided
  // or decides later: a durable event through the outbox (the relay retries it while Temporal is
  // away), written with the delivery's outcome in one statement. The card records it, and answers a
  // retried or late authorize for this request the same way.
  const standInEvent: CanonicalEvent = {
    kind: 'authorization.stand_in',
    eventId: `${ev.eventId}:stand-in`,
    requestEventId: ev.eventId,
    partner: ev.partner,
    partnerCardId: ev.partnerCardId,
    occurredAtMs: ev.occurredAtMs,
    transactionId: ev.transactionId,
    amount: ev.amount,
    currency: ev.kind === 'authorization.request' ? ev.currency : '',
    merchant: ev.kind === 'authorization.request' ? ev.merchant : { mcc: '0000', country: '' },
    approved: standIn.approved,
    increment: ev.kind === 'authorization.increment',
  };
  const details = withReplay({
    standIn: true,
    decision: standIn,
    reason: first === 'late' ? `no decision within ${timeoutMs} ms` : String((first as { err: unknown }).err),
  });
  const written = STAND_IN.run(knex, {
    ...outcomeBindings({
      tenantId: req.tenantId,
      deliveryId: req.deliveryId,
      outcome: 'applied',
      eventId: ev.eventId,
      eventType: ev.kind,
      cardId: req.cardId,
      details,
    }),
    partner: ev.partner,
    standInEventId: standInEvent.eventId,
    partnerCardId: ev.partnerCardId,
    event: JSON.stringify(standInEvent),
    // An operator's replay of a stored request: nobody acts on this answer, no stand-in is booked.
    replay: Boolean(req.replay),
  });
  // The answer is due at the deadline whatever the database is doing: the delivery itself is
  // stored already, and the write goes on after the answer. A failure is logged as an error: the
  // partner still gets its answer, and the drift this leaves is reconciliation's to find.
  await settleBy(deps.log, written, answerBy, {
    deliveryId: req.deliveryId,
    failed: 'stand-in answered; its record failed',
    late: 'stand-in answered before its record was written',
  });
  // The update may still complete (or fail) after the answer; the card reconciles either way.
  update.then(
    (r) => (r.projection ? writeProjection(deps, r.projection, null) : undefined),
    (err: unknown) =>
      deps.log.info(
        { err: String(err), deliveryId: req.deliveryId },
        'authorize finished after the stand-in',
      ),
  );
  timing.standIn = true;
  return told({ ...standIn, duplicate: false });
}

/**
 * A stand-in's outcome and its event's outbox row: one statement, so neither is without the other.
 * The stand-in is what the partner was told, so it is on record as the delivery's answer: the first
 * final outcome, or, when the card's own decision (decided in time, heard too late) was recorded
 * first, an explicit supersession of it.
 */
const STAND_IN = preparedStatement(
  'record_stand_in',
  `WITH ${supersedingOutcomeSql(
    'o',
    `SELECT :tenantId::text, :deliveryId::text, :outcome::text, :eventId::text, :eventType::text,
            :cardId::text, :error::text, :details::text`,
  )}
   INSERT INTO webhook_handoffs
     (delivery_id, event_id, tenant_id, partner, partner_card_id, card_id, event, status, source, next_attempt_at)
   SELECT :deliveryId, :standInEventId, :tenantId, :partner, :partnerCardId, :cardId, :event::jsonb,
          'pending', 'system', now()
    WHERE NOT :replay
   ON CONFLICT (delivery_id, event_id) DO NOTHING`,
);
