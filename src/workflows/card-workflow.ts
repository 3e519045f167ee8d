import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Actor, ActorType, CardStatus, CardTransition } from '../domain/card-state';
import { decideTransition, isTerminal } from '../domain/card-state';
import type { CardControls, SpendingLimit } from '../domain/controls';
import { IRREVERSIBLE_ACTIONS } from '../domain/overrides';
import { decideIncrement, decideRequest, type DeclineCode } from '../domain/authorization';
import type { CanonicalEvent } from '../domain/events';
import {
  applyMoneyEvent,
  compact,
  findEntry,
  userSpendItemKey,
  userSpendOf,
  flagsOf,
  heldOf,
  ops,
  statusOf,
  upsert,
  type Ledger,
  type LedgerEntry,
} from '../domain/ledger';
import { windowStart } from '../domain/time-windows';
import type { CardActivities } from '../activities/card-activities';
import type { MoneyDecision } from '../domain/card-records';
import {
  applyOverrideUpdate,
  authorizeUpdate,
  changeStatusUpdate,
  partnerEventSignal,
  getCardQuery,
  issueUpdate,
  type ApplyOverrideInput,
  type ApplyOverrideResult,
  type AuthorizeInput,
  type AuthorizeResult,
  type PartnerEventInput,
  type ChangeCardStatusInput,
  type ChangeCardStatusResult,
  type IssueCardInput,
  type IssueCardResult,
} from './messages';
import {
  initialState,
  RECENT_RESULTS_KEPT,
  SEEN_EVENTS_KEPT,
  type CardWorkflowInput,
  type CardWorkflowState,
  type PendingOverride,
} from './card-state';
import { CardStatusSA, RegionSA, UserIdSA } from './search-attributes';

// Database activities are idempotent: retried until the database answers, never failing the workflow.
const DB_RETRY = {
  initialInterval: '200 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
} as const;
const dbRemote = proxyActivities<CardActivities>({ startToCloseTimeout: '10 seconds', retry: DB_RETRY });
// The same activities as local activities: they run in the worker that runs the workflow task, so a
// partner event or an authorization costs one workflow task instead of a round trip through the
// server's activity queue (the authorization deadline and the webhook throughput both need that).
const dbLocal = proxyLocalActivities<CardActivities>({
  startToCloseTimeout: '10 seconds',
  localRetryThreshold: '10 seconds',
  retry: DB_RETRY,
});
/** Histories recorded before the switch keep scheduling regular activities when replayed. */
const LOCAL_DB_PATCH = 'local-db-activities';
/** Per-user weekly spend: reserved on approval, and each money event's contribution recorded. */
const USER_SPEND_PATCH = 'user-weekly-spend';
/** The hold-expiry timer, the stand-in reconciliation and cancelling a card whose last authorization settled. */
const LIFECYCLE_PATCH = 'authorization-lifecycle';
/**
 * A fresh authorization is decided from the card's books and answered in the same workflow task;
 * its database write is the API's (as it answers) and the card's own a moment later (the backstop).
 */
const BOOKS_FIRST_PATCH = 'authorize-from-books';
/**
 * How long a decision from the books waits for the card's own write of it, by default: the API
 * wrote it as it answered (nearly always), so this is the backstop for an API that died in between,
 * kept rare (one workflow task per card per interval, one indexed look) to stay off the path.
 */
const PROJECTION_FLUSH_MS = 30_000;
const db: CardActivities = new Proxy({} as CardActivities, {
  get: (_target, name: string) =>
    (patched(LOCAL_DB_PATCH) ? dbLocal : dbRemote)[name as keyof CardActivities],
});

// Partner calls give up after a few seconds; the caller decides what a failure means.
const partner = proxyActivities<CardActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 5,
  },
});

/** Serialises handlers that await activities and then mutate state. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

function refuse(code: string, message: string, details?: Record<string, unknown>): never {
  throw ApplicationFailure.create({
    type: code,
    message,
    nonRetryable: true,
    details: details ? [details] : undefined,
  });
}

const SYSTEM: Actor = { type: 'system', id: 'card-workflow' };
/** How long a card trusts its copy of the program policy (each decision records the version it used). */
const PROGRAM_CACHE_MS = 10_000;
/** How long it is kept while the API confirms its policy version is still the one in force. */
const PROGRAM_CACHE_KNOWN_VERSION_MS = 60_000;
const PROGRAM_VERSION_PATCH = 'program-by-version';
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * One long-running workflow per card: issuance, status changes, operator overrides with their
 * expiry timers, the card's own expiry, and (later) partner events and authorizations. It is the
 * only writer of the card's state; activities persist what it decides.
 */
export async function cardWorkflow(input: CardWorkflowInput): Promise<void> {
  const state: CardWorkflowState = { ...initialState(input.tenantId, input.cardId), ...input.state };
  const mutex = new Mutex();
  /** Set by handlers that move a deadline (override applied, expiry extended), to re-arm the timer. */
  let rearm = false;
  /** The deadline the main loop's timer is armed for (null: none). */
  let armedDeadline: number | null = null;

  const remember = (key: string | undefined, result: unknown): void => {
    if (!key) return;
    // The latest answer for a key is the one that stands (a stand-in replaces a late decision).
    const at = state.recentResults.findIndex(([k]) => k === key);
    if (at >= 0) state.recentResults.splice(at, 1);
    state.recentResults.push([key, result]);
    if (state.recentResults.length > RECENT_RESULTS_KEPT)
      state.recentResults.splice(0, state.recentResults.length - RECENT_RESULTS_KEPT);
  };
  const recalled = <T>(key: string | undefined): T | undefined =>
    key ? (state.recentResults.find(([k]) => k === key)?.[1] as T | undefined) : undefined;

  const transition = async (
    to: CardStatus,
    frozenBy: ActorType | null,
    actor: Actor,
    cause: string,
    reason?: string,
  ): Promise<void> => {
    const from = state.status === 'new' ? null : state.status;
    state.transitionSeq += 1;
    await db.recordTransition({
      tenantId: state.tenantId,
      cardId: state.cardId,
      from,
      to,
      frozenBy,
      actor,
      cause,
      reason,
      eventKey: `t${state.transitionSeq}`,
      occurredAtMs: Date.now(),
    });
    state.status = to;
    state.frozenBy = frozenBy;
    state.statusChangedAtMs = Math.max(state.statusChangedAtMs ?? 0, Date.now());
    upsertSearchAttributes([{ key: CardStatusSA, value: to }]);
  };

  /** Applies a state-machine transition and tells the partner. */
  const move = async (t: CardTransition, actor: Actor, cause: string, reason?: string): Promise<void> => {
    const d = decideTransition(
      { status: state.status as CardStatus, frozenBy: state.frozenBy },
      t,
      actor.type,
    );
    if (!d.ok) refuse(d.code, d.reason, { status: state.status, frozenBy: state.frozenBy });
    await transition(d.to, d.frozenBy, actor, cause, reason);
    const partnerStatus = d.to === 'expired' ? 'canceled' : d.to;
    if (
      actor.type !== 'partner' &&
      (partnerStatus === 'active' || partnerStatus === 'frozen' || partnerStatus === 'canceled')
    ) {
      try {
        await partner.syncPartnerStatus({
          tenantId: state.tenantId,
          cardId: state.cardId,
          status: partnerStatus,
        });
      } catch (err) {
        // Our decision stands; the drift between the books is what reconciliation finds and explains.
        log.warn('could not tell the partner about a status change', {
          to: partnerStatus,
          error: String(err),
        });
      }
    }
  };

  const setControls = async (controls: CardControls): Promise<void> => {
    await db.updateCardControls({ tenantId: state.tenantId, cardId: state.cardId, controls });
    state.controls = controls;
  };

  const setExpiry = async (expiresAtMs: number): Promise<void> => {
    await db.updateCardExpiry({ tenantId: state.tenantId, cardId: state.cardId, expiresAtMs });
    state.expiresAtMs = expiresAtMs;
    rearm = true;
  };

  setHandler(getCardQuery, () => ({
    cardId: state.cardId,
    tenantId: state.tenantId,
    status: state.status,
    frozenBy: state.frozenBy,
    historyLength: workflowInfo().historyLength,
    runsSoFar: state.runsSoFar,
    expiresAtMs: state.expiresAtMs,
    controls: state.controls,
    pendingOverrides: state.pendingOverrides.map(({ actionId, type, revertAtMs }) => ({
      actionId,
      type,
      revertAtMs,
    })),
  }));

  // ---- issuance -------------------------------------------------------------------------------
  setHandler(
    issueUpdate,
    (req: IssueCardInput): Promise<IssueCardResult> =>
      mutex.run(async () => {
        if (state.status !== 'new') return { cardId: state.cardId, status: state.status };
        state.issueRequestHash = req.requestHash ?? null;
        const reserved = await db.reserveIssuance({ ...req, requestedAtMs: Date.now() });
        if (!reserved.ok) {
          state.status = 'canceled';
          refuse(reserved.refusal.code, reserved.refusal.message, reserved.refusal.details);
        }
        state.status = 'pending';
        state.userId = reserved.userId;
        state.region = reserved.region;
        state.currency = reserved.currency;
        state.expiresAtMs = reserved.expiresAtMs;
        state.partner = reserved.partner;
        state.controls = reserved.controls;
        state.transitionSeq = 1; // t1 = the pending row written with the reservation
        upsertSearchAttributes([
          { key: UserIdSA, value: reserved.userId },
          { key: RegionSA, value: reserved.region },
          { key: CardStatusSA, value: 'pending' },
        ]);
        try {
          await partner.createAtPartner({ tenantId: state.tenantId, cardId: state.cardId });
        } catch (err) {
          log.error('partner card creation failed; canceling the pending card', { error: String(err) });
          await transition('canceled', null, { type: 'system', id: 'issuance' }, 'partner_create_failed');
          refuse('PARTNER_UNAVAILABLE', 'the partner could not create the card');
        }
        await transition('active', null, { type: 'system', id: 'issuance' }, 'issued');
        state.statusChangedAtMs = Date.now();
        rearm = true;
        // Partner events that raced issuance were parked; they are this card's now.
        // (Patched: card workflows issued before this step existed replay without it.)
        if (patched('claim-parked-events')) {
          for (const parked of await db.claimParkedEvents({
            tenantId: state.tenantId,
            cardId: state.cardId,
          })) {
            await applyPartnerEvent(parked, { quietDuplicate: true });
          }
        }
        return { cardId: state.cardId, status: state.status };
      }),
    {
      validator: (req: IssueCardInput) => {
        if (req.cardId !== state.cardId || req.tenantId !== state.tenantId)
          refuse('VALIDATION_FAILED', 'card id mismatch');
        // The card id derives from the Idempotency-Key: the same key with another body is not this card.
        if (
          state.status !== 'new' &&
          state.issueRequestHash &&
          req.requestHash &&
          req.requestHash !== state.issueRequestHash
        ) {
          refuse('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request');
        }
      },
    },
  );

  // ---- status changes by the app (and anyone else through the same rules) ----------------------
  const validateChange = (req: ChangeCardStatusInput): void => {
    if (recalled(req.requestKey)) return;
    if (state.status === 'new') refuse('CARD_NOT_ISSUED', 'the card has not been issued');
    const d = decideTransition(
      { status: state.status, frozenBy: state.frozenBy },
      req.transition,
      req.actor.type,
    );
    if (!d.ok) refuse(d.code, d.reason, { status: state.status, frozenBy: state.frozenBy });
  };

  setHandler(
    changeStatusUpdate,
    (req: ChangeCardStatusInput): Promise<ChangeCardStatusResult> =>
      mutex.run(async () => {
        const earlier = recalled<ChangeCardStatusResult>(req.requestKey);
        if (earlier) return earlier;
        validateChange(req); // again under the mutex: state may have moved since the validator ran
        await move(req.transition, req.actor, `${req.actor.type}_${req.transition}`, req.reason);
        const result = { cardId: state.cardId, status: state.status as CardStatus, frozenBy: state.frozenBy };
        remember(req.requestKey, result);
        return result;
      }),
    { validator: validateChange },
  );

  // ---- operator overrides ------------------------------------------------------------------------
  const validateOverride = (req: ApplyOverrideInput): void => {
    if (recalled(req.actionId)) return;
    if (state.status === 'new') refuse('CARD_NOT_ISSUED', 'the card has not been issued');
    if (req.expiresAtMs !== undefined && IRREVERSIBLE_ACTIONS.includes(req.type)) {
      refuse('OVERRIDE_NOT_REVERSIBLE', `${req.type} cannot be given an expiry`);
    }
    if (req.type === 'freeze' || req.type === 'unfreeze' || req.type === 'cancel') {
      const d = decideTransition({ status: state.status, frozenBy: state.frozenBy }, req.type, 'operator');
      if (!d.ok) refuse(d.code, d.reason, { status: state.status, frozenBy: state.frozenBy });
    } else if (isTerminal(state.status)) {
      refuse('CARD_TRANSITION_NOT_ALLOWED', `the card is ${state.status}`);
    }
    if (req.type === 'extend_expiry') {
      const next = Date.parse(String(req.params.expiresAt));
      if (!(next > (state.expiresAtMs ?? 0)))
        refuse('EXPIRY_NOT_EXTENDED', 'the new expiry must be later than the current one');
    }
  };

  /** What an override acts on, read from the current state. */
  const snapshotFor = (type: ApplyOverrideInput['type']): Record<string, unknown> => {
    switch (type) {
      case 'freeze':
      case 'unfreeze':
      case 'cancel':
        return { status: state.status, frozenBy: state.frozenBy };
      case 'set_spending_limits':
        return { spendingLimits: state.controls?.spendingLimits ?? [] };
      case 'allow_regions':
        return { allowedRegions: state.controls?.allowedRegions ?? [] };
      case 'extend_expiry':
        return { expiresAt: new Date(state.expiresAtMs ?? 0).toISOString() };
    }
  };

  /** Brings the card to `target` (a snapshot of the kind snapshotFor returns). */
  const restore = async (
    type: ApplyOverrideInput['type'],
    target: Record<string, unknown>,
    actor: Actor,
    cause: string,
    reason: string,
  ) => {
    switch (type) {
      case 'freeze':
      case 'unfreeze':
      case 'cancel': {
        const status = target.status as CardStatus;
        if (status === 'active') await move('unfreeze', actor, cause, reason);
        else if (status === 'frozen')
          await move(
            'freeze',
            { ...actor, type: (target.frozenBy as ActorType | null) ?? 'operator' },
            cause,
            reason,
          );
        else if (status === 'canceled') await move('cancel', actor, cause, reason);
        return;
      }
      case 'set_spending_limits':
        return setControls({ ...state.controls!, spendingLimits: target.spendingLimits as SpendingLimit[] });
      case 'allow_regions':
        return setControls({ ...state.controls!, allowedRegions: target.allowedRegions as string[] });
      case 'extend_expiry':
        return setExpiry(Date.parse(String(target.expiresAt)));
    }
  };

  setHandler(
    applyOverrideUpdate,
    (req: ApplyOverrideInput): Promise<ApplyOverrideResult> =>
      mutex.run(async () => {
        const earlier = recalled<ApplyOverrideResult>(req.actionId);
        if (earlier) return earlier;
        validateOverride(req);
        const before = snapshotFor(req.type);
        const cause = `operator_${req.type}`;
        let target: Record<string, unknown>;
        switch (req.type) {
          case 'freeze':
            target = { status: 'frozen', frozenBy: 'operator' };
            break;
          case 'unfreeze':
            target = { status: 'active', frozenBy: null };
            break;
          case 'cancel':
            target = { status: 'canceled', frozenBy: null };
            break;
          case 'set_spending_limits':
            target = { spendingLimits: req.params.spendingLimits };
            break;
          case 'allow_regions': {
            const current = state.controls?.allowedRegions ?? [];
            const added = (req.params.regions as string[]).filter((r) => !current.includes(r));
            target = { allowedRegions: [...current, ...added] };
            break;
          }
          case 'extend_expiry':
            target = { expiresAt: new Date(Date.parse(String(req.params.expiresAt))).toISOString() };
            break;
        }
        await restore(req.type, target, req.actor, cause, req.reason);
        const after = snapshotFor(req.type);
        await db.recordActionDecision({
          tenantId: state.tenantId,
          actionId: req.actionId,
          decision: 'applied',
          decidedBy: req.actor.id,
          after,
        });
        if (req.expiresAtMs !== undefined) {
          state.pendingOverrides.push({
            actionId: req.actionId,
            type: req.type,
            revertAtMs: req.expiresAtMs,
            before,
            after,
          });
          rearm = true;
        }
        const result: ApplyOverrideResult = { actionId: req.actionId, before, after };
        remember(req.actionId, result);
        return result;
      }),
    { validator: validateOverride },
  );

  // ---- partner events ------------------------------------------------------------------------------
  /** The delivery that applied an event (undefined: not applied by this card yet, as far as it remembers). */
  const appliedBy = (eventId: string): string | null | undefined =>
    state.seenEventIds.find(([e]) => e === eventId)?.[1];
  const seen = (eventId: string): boolean => appliedBy(eventId) !== undefined;
  const markSeen = (eventId: string, deliveryId: string | null): void => {
    state.seenEventIds.push([eventId, deliveryId]);
    if (state.seenEventIds.length > SEEN_EVENTS_KEPT)
      state.seenEventIds.splice(0, state.seenEventIds.length - SEEN_EVENTS_KEPT);
  };
  const snapshotOf = (e: LedgerEntry) => ({
    ...e,
    held: heldOf(e),
    status: statusOf(e),
    allFlags: flagsOf(e),
  });

  const program = async (knownVersion?: number) => {
    const p = state.program;
    // The API says which policy version is in force: while the card's copy has it, the copy is
    // kept longer (only the user's own cap can change under the same version), so an
    // authorization does not stop to reload the rules every 10 s.
    const current =
      knownVersion !== undefined && p?.version === knownVersion && patched(PROGRAM_VERSION_PATCH);
    const stale = knownVersion !== undefined && p !== null && p.version !== knownVersion;
    if (
      !p ||
      stale ||
      Date.now() - p.loadedAtMs > (current ? PROGRAM_CACHE_KNOWN_VERSION_MS : PROGRAM_CACHE_MS)
    ) {
      state.program = {
        ...(await db.loadProgram({ tenantId: state.tenantId, userId: state.userId })),
        loadedAtMs: Date.now(),
      };
    }
    return state.program!;
  };

  /** The week (program time zone) an entry counts in for its user's weekly spend. */
  const weekOf = (e: LedgerEntry): number | null => {
    const p = state.program;
    return p ? windowStart(e.atMs, 'weekly', p.timeZone, p.weekStartsOn) : null;
  };
  const userSpendFor = (e: LedgerEntry) => {
    const weekStartMs = weekOf(e);
    return state.userId && weekStartMs !== null && patched(USER_SPEND_PATCH)
      ? { userId: state.userId, weekStartMs, contribution: userSpendOf(e) }
      : undefined;
  };

  /** A hold lapses before the timer the main loop armed. */
  const holdBeforeArmedTimer = (): boolean => {
    const hold = nextHoldExpiry();
    return hold !== null && (armedDeadline === null || hold < armedDeadline);
  };

  const flushMs = input.projectionFlushMs ?? PROJECTION_FLUSH_MS;
  /**
   * Makes sure the decisions taken from the books are on record (the API wrote them as it
   * answered, unless it died first). Writes in any order are safe (see writeMoneyEvent).
   */
  const flushProjections = async (): Promise<void> => {
    if (!state.unprojected.length) return;
    const items = state.unprojected.slice();
    await db.projectMoneyEvents({ items });
    state.unprojected.splice(0, items.length);
  };
  const flushDueAt = (): number | null =>
    state.unprojected.length ? state.unprojected[0]!.decidedAtMs + flushMs : null;

  /** Takes the new ledger at once; the write is queued (see flushProjections) and returned. */
  const commitFromBooks = (
    input: { deliveryId: string | null; source: PartnerEventInput['source']; event: CanonicalEvent },
    next: { ledger: Ledger; entry: LedgerEntry },
    decision: MoneyDecision,
  ) => {
    const item = { ...nextWrite(input, next, decision), decidedAtMs: Date.now() };
    state.ledger = next.ledger;
    // The first queued write, or a hold lapsing before the armed timer: the main loop re-arms.
    if (!state.unprojected.length || holdBeforeArmedTimer()) rearm = true;
    state.unprojected.push(item);
    markSeen(input.event.eventId, input.deliveryId);
    const { decidedAtMs: _at, ...projection } = item;
    return projection;
  };

  /** The card's next money write (its sequence number taken). */
  const nextWrite = (
    input: { deliveryId: string | null; source: PartnerEventInput['source']; event: CanonicalEvent },
    next: { ledger: Ledger; entry: LedgerEntry },
    decision?: MoneyDecision,
  ) => {
    state.moneySeq += 1;
    return {
      tenantId: state.tenantId,
      cardId: state.cardId,
      deliveryId: input.deliveryId,
      source: input.source,
      event: input.event,
      entry: snapshotOf(next.entry),
      decision,
      commitKey: `m${state.moneySeq}`,
      seq: state.moneySeq,
      userSpend: userSpendFor(next.entry),
    };
  };

  /** Writes a money event once and, only if this call wrote it, takes the new ledger. */
  const commitMoney = async (
    input: { deliveryId: string | null; source: PartnerEventInput['source']; event: CanonicalEvent },
    next: { ledger: Ledger; entry: LedgerEntry },
    decision?: MoneyDecision,
  ) => {
    // The week needs the program's time zone: load the rules if this card has none yet (a refresh
    // here would undo the authorization path's policy-version check and reload every 10 s).
    if (state.userId && !state.program && patched(USER_SPEND_PATCH)) await program();
    const result = await db.recordMoneyEvent(nextWrite(input, next, decision));
    if (result.applied) {
      state.ledger = next.ledger;
      // A new hold that lapses before the timer the main loop armed: re-arm it.
      if (holdBeforeArmedTimer() && patched(LIFECYCLE_PATCH)) rearm = true;
    }
    markSeen(input.event.eventId, input.deliveryId);
    return result;
  };

  const outcome = (
    input: PartnerEventInput,
    o: 'applied' | 'duplicate' | 'ignored' | 'failed',
    details?: Record<string, unknown>,
    error?: string,
  ) =>
    input.deliveryId
      ? db.recordOutcome({
          tenantId: state.tenantId,
          deliveryId: input.deliveryId,
          outcome: o,
          eventId: input.event.eventId,
          eventType: input.event.kind,
          cardId: state.cardId,
          details: { source: input.source, ...details },
          error,
        })
      : Promise.resolve();

  /** Applies one asynchronous partner event, once, by its meaning rather than its arrival order. */
  const applyPartnerEvent = async (
    input: PartnerEventInput,
    opts: { quietDuplicate?: boolean } = {},
  ): Promise<void> => {
    const ev = input.event;
    if (seen(ev.eventId)) {
      // The same delivery handed over twice (relay retry, or claim and relay) is no news.
      if (opts.quietDuplicate || (!input.replay && appliedBy(ev.eventId) === input.deliveryId)) return;
      return outcome(input, 'duplicate');
    }
    if (ev.kind === 'card.status') {
      // Older than the card's last status change: stale, except a cancellation, which nothing undoes at the partner.
      if (
        ev.status !== 'canceled' &&
        state.statusChangedAtMs !== null &&
        ev.occurredAtMs < state.statusChangedAtMs
      ) {
        markSeen(ev.eventId, input.deliveryId);
        return outcome(input, 'ignored', { reason: 'stale: older than the card’s last status change' });
      }
      const current = state.status;
      const wanted = ev.status;
      const t: CardTransition | null =
        wanted === current
          ? null
          : wanted === 'frozen'
            ? 'freeze'
            : wanted === 'canceled'
              ? 'cancel'
              : current === 'frozen'
                ? 'unfreeze'
                : null;
      markSeen(ev.eventId, input.deliveryId);
      if (!t) {
        // The partner said the card is already as we have it, as of this event: an older status
        // event arriving after it is stale too (an unfreeze delivered before its freeze).
        if (patched('status-watermark'))
          state.statusChangedAtMs = Math.max(state.statusChangedAtMs ?? 0, ev.occurredAtMs);
        return outcome(input, 'ignored', { reason: `no change: the card is ${current}` });
      }
      const d = decideTransition({ status: current as CardStatus, frozenBy: state.frozenBy }, t, 'partner');
      if (!d.ok) return outcome(input, 'ignored', { reason: `refused: ${d.reason}`, code: d.code });
      // A fix from reconciliation is the partner's word too, marked as found by reconciliation.
      const by = input.source === 'reconciliation' ? `reconciliation:${ev.partner}` : ev.partner;
      await transition(d.to, d.frozenBy, { type: 'partner', id: by }, `partner_${t}`, ev.reason);
      state.statusChangedAtMs = ev.occurredAtMs;
      return outcome(input, 'applied', { from: current, to: d.to });
    }
    if (ev.kind === 'authorization.request' || ev.kind === 'authorization.increment') {
      // Synchronous kinds arrive through the authorize update; a replayed one is answered the same way.
      await decide({ deliveryId: input.deliveryId, event: ev });
      return;
    }
    if (ev.kind === 'authorization.stand_in') {
      // The partner was answered with the stand-in: a later (or earlier) decision of ours for the
      // same request must not change the books, and an authorize retry must get the same answer.
      const ours = recalled<AuthorizeResult>(`auth:${ev.requestEventId}`);
      remember(`auth:${ev.requestEventId}`, {
        approved: ev.approved,
        approvedAmount: ev.approved ? ev.amount : 0,
        declineCode: ev.approved ? null : 'STAND_IN',
        duplicate: false,
      } satisfies AuthorizeResult);
      const cardApproved =
        ours !== undefined
          ? ours.approved
          : !ev.increment && (findEntry(state.ledger, ev.transactionId)?.authorized ?? 0) > 0;
      let next: { ledger: Ledger; entry: LedgerEntry };
      if (ev.increment) {
        // An increment: the hold grows by what the partner approved and the card did not, or
        // shrinks back by what the card approved and the partner did not.
        next = upsert(state.ledger, ev.transactionId, ev.occurredAtMs, state.currency ?? ev.currency, (e) =>
          ops.flag(
            ev.approved && !cardApproved
              ? ops.increment(e, ev.amount)
              : !ev.approved && cardApproved
                ? ops.reverse(e, ev.amount)
                : e,
            ev.approved ? 'stand_in' : 'stand_in_release',
          ),
        );
      } else next = applyMoneyEvent(state.ledger, ev, state.currency ?? ev.currency);
      const committed = await commitMoney(input, next);
      // The card's authorization count follows what the partner acted on.
      if (committed.applied && !ev.increment) {
        if (ev.approved && !cardApproved) state.approvals += 1;
        if (!ev.approved && cardApproved) state.approvals = Math.max(0, state.approvals - 1);
      }
      return;
    }
    const next = applyMoneyEvent(
      state.ledger,
      ev,
      state.currency ?? ('currency' in ev ? ev.currency : 'USD'),
    );
    await commitMoney(input, next);
  };

  /**
   * A card limited to N authorizations is canceled once the last of them is captured, reversed
   * or expired: nothing more can be approved on it, and nothing of it is still held.
   */
  const retireIfSpent = async (): Promise<void> => {
    const max = state.controls?.maxAuthorizations ?? null;
    if (max === null || state.approvals < max) return;
    if (state.status !== 'active' && state.status !== 'frozen') return;
    if (state.ledger.entries.some((e) => heldOf(e) > 0)) return;
    if (!patched(LIFECYCLE_PATCH)) return;
    await move('cancel', SYSTEM, 'max_authorizations_settled', `all ${max} authorization(s) settled`);
  };

  setHandler(partnerEventSignal, (input: PartnerEventInput) =>
    mutex.run(async () => {
      try {
        await applyPartnerEvent(input);
        await retireIfSpent();
      } catch (err) {
        // A signal has no caller to tell: record the failure on the delivery (replayable) and keep the card alive.
        log.error('partner event failed', { eventId: input.event.eventId, error: String(err) });
        await outcome(input, 'failed', undefined, String(err).slice(0, 1000));
      }
    }),
  );

  // ---- real-time authorization ------------------------------------------------------------------------
  const decide = async (req: AuthorizeInput): Promise<AuthorizeResult> => {
    const key = `auth:${req.event.eventId}`;
    const earlier = recalled<AuthorizeResult>(key);
    if (earlier) {
      if (req.deliveryId)
        await outcome({ deliveryId: req.deliveryId, event: req.event, source: 'partner' }, 'duplicate');
      return { ...earlier, duplicate: true, recordedFor: req.deliveryId };
    }
    const ev = req.event;
    if (ev.kind !== 'authorization.request' && ev.kind !== 'authorization.increment')
      refuse('VALIDATION_FAILED', 'authorize takes authorization requests and increments');
    const p = await program(req.policyVersion);
    const card = {
      status: state.status,
      currency: state.currency ?? '',
      controls: state.controls!,
      expiresAtMs: state.expiresAtMs ?? 0,
      approvals: state.approvals,
    };
    const now = Date.now();
    let { decision: d, next } =
      ev.kind === 'authorization.request'
        ? decideRequest(card, p, state.ledger, ev, now)
        : decideIncrement(card, p, state.ledger, ev, now);
    // The user's weekly cap spans all their cards, so it is reserved atomically in the database.
    const userLimit = p.weeklySpendLimit ?? null;
    const reserving = Boolean(d.approved && userLimit !== null && state.userId && patched(USER_SPEND_PATCH));
    if (reserving) {
      const r = await db.reserveUserSpend({
        tenantId: state.tenantId,
        userId: state.userId!,
        itemKey: userSpendItemKey(ev.partner, ev.transactionId),
        eventKey: `${ev.partner}:${ev.eventId}`,
        weekStartMs: weekOf(next.entry)!,
        contribution: userSpendOf(next.entry),
        limit: userLimit!,
        // The write that follows is the card's next one: an older write of this item arriving
        // after it (an authorization decided from the books) is then not counted again.
        seq: state.moneySeq + 1,
      });
      if (!r.reserved) {
        d = {
          approved: false,
          declineCode: 'EXCEEDS_USER_WEEKLY_LIMIT',
          reason: `the user's weekly spend ${r.spent} + ${ev.amount} would exceed ${userLimit}`,
        };
        next =
          ev.kind === 'authorization.request'
            ? upsert(state.ledger, ev.transactionId, ev.occurredAtMs, ev.currency, (e) =>
                ops.decline(e, 'EXCEEDS_USER_WEEKLY_LIMIT', ev.merchant),
              )
            : { ledger: state.ledger, entry: findEntry(state.ledger, ev.transactionId)! };
      }
    }
    const answer: AuthorizeResult = d.approved
      ? { approved: true, approvedAmount: ev.amount, declineCode: null, duplicate: false }
      : { approved: false, approvedAmount: 0, declineCode: d.declineCode, duplicate: false };
    let result: AuthorizeResult = { ...answer, recordedFor: req.deliveryId };
    const decision: MoneyDecision = {
      ...answer,
      reason: d.approved ? undefined : d.reason,
      policyVersion: p.version,
    };
    // A fresh request (no earlier delivery of it exists) needs nothing from the database once the
    // rules are loaded: decided from the books and answered in this workflow task, with its write
    // handed to the API and queued here. The books are the truth; the tables follow them.
    if (req.fresh === true && !reserving && patched(BOOKS_FIRST_PATCH)) {
      const projection = commitFromBooks(
        { deliveryId: req.deliveryId, source: 'partner', event: ev },
        next,
        decision,
      );
      if (d.approved && ev.kind === 'authorization.request') state.approvals += 1;
      remember(key, result);
      return { ...result, projection };
    }
    const committed = await commitMoney(
      { deliveryId: req.deliveryId, source: 'partner', event: ev },
      next,
      decision,
    );
    if (!committed.applied && committed.priorDecision) {
      // Decided before (a redelivery past the in-memory window): the same answer again.
      result = {
        ...committed.priorDecision,
        declineCode: committed.priorDecision.declineCode as DeclineCode | null,
        duplicate: true,
        recordedFor: req.deliveryId,
      };
    } else if (committed.applied && d.approved && ev.kind === 'authorization.request') state.approvals += 1;
    remember(key, result);
    return result;
  };

  setHandler(
    authorizeUpdate,
    (req: AuthorizeInput): Promise<AuthorizeResult> => mutex.run(() => decide(req)),
    {
      validator: (req: AuthorizeInput) => {
        if (req.event.kind !== 'authorization.request' && req.event.kind !== 'authorization.increment') {
          refuse('VALIDATION_FAILED', 'authorize takes authorization requests and increments');
        }
        // Nobody waits for this answer any more (the stand-in has answered): refused before it is
        // accepted, so nothing is written. A request decided before is answered as it was.
        if (
          req.deadlineAtMs !== undefined &&
          Date.now() > req.deadlineAtMs &&
          !recalled(`auth:${req.event.eventId}`)
        ) {
          refuse('AUTHORIZATION_TOO_LATE', 'the partner stopped waiting for this decision', {
            lateByMs: Date.now() - req.deadlineAtMs,
          });
        }
      },
    },
  );

  /** Reverts an override whose time is up, unless its subject changed since (then it just lapses). */
  const revert = async (o: PendingOverride): Promise<void> => {
    const actor: Actor = { type: 'operator', id: o.actionId };
    if (!same(snapshotFor(o.type), o.after) || isTerminal(state.status as CardStatus)) {
      await db.recordActionDecision({
        tenantId: state.tenantId,
        actionId: o.actionId,
        decision: 'expired',
        decidedBy: 'system',
        note: 'the card changed since the override; nothing restored',
      });
      return;
    }
    try {
      await restore(o.type, o.before, actor, 'override_expired', `override ${o.actionId} expired`);
      await db.recordActionDecision({
        tenantId: state.tenantId,
        actionId: o.actionId,
        decision: 'reverted',
        decidedBy: 'system',
        after: snapshotFor(o.type),
      });
    } catch (err) {
      log.warn('override could not be reverted', { actionId: o.actionId, error: String(err) });
      await db.recordActionDecision({
        tenantId: state.tenantId,
        actionId: o.actionId,
        decision: 'expired',
        decidedBy: 'system',
        note: String(err),
      });
    }
  };

  /** When an entry's hold lapses by itself (the program's holdExpiryDays after the authorization). */
  const holdExpiryMs = (): number | null => {
    if (input.holdExpiryMs !== undefined) return input.holdExpiryMs;
    const days = state.program?.holdExpiryDays;
    return days === undefined ? null : days * 86_400_000;
  };
  const holdsDue = (): LedgerEntry[] => {
    const after = holdExpiryMs();
    if (after === null) return [];
    return state.ledger.entries.filter((e) => heldOf(e) > 0 && e.atMs + after <= Date.now());
  };
  const nextHoldExpiry = (): number | null => {
    const after = holdExpiryMs();
    if (after === null) return null;
    const held = state.ledger.entries.filter((e) => heldOf(e) > 0).map((e) => e.atMs + after);
    return held.length ? Math.min(...held) : null;
  };

  /** Timers: the card's expiry, each override's expiry and each hold's expiry. */
  const processDue = async (): Promise<void> => {
    const flushAt = flushDueAt();
    if (flushAt !== null && flushAt <= Date.now()) await flushProjections();
    if (patched(LIFECYCLE_PATCH)) {
      // A hold the partner never settled lapses: released as an expiry the platform writes itself.
      for (const e of holdsDue()) {
        const expiry: CanonicalEvent = {
          kind: 'authorization.expiry',
          eventId: `hold-expiry:${e.id}`,
          partner: state.partner ?? 'sandbox',
          partnerCardId: '',
          transactionId: e.id,
          occurredAtMs: Date.now(),
        };
        if (seen(expiry.eventId)) continue;
        await commitMoney(
          { deliveryId: null, source: 'system', event: expiry },
          applyMoneyEvent(state.ledger, expiry, e.currency),
        );
      }
      await retireIfSpent();
    }
    const now = Date.now();
    const due = state.pendingOverrides
      .filter((o) => o.revertAtMs <= now)
      .sort((a, b) => a.revertAtMs - b.revertAtMs);
    state.pendingOverrides = state.pendingOverrides.filter((o) => o.revertAtMs > now);
    for (const o of due) await revert(o);
    if (
      state.expiresAtMs !== null &&
      state.expiresAtMs <= now &&
      !isTerminal(state.status as CardStatus) &&
      state.status !== 'new'
    ) {
      await move('expire', SYSTEM, 'card_expired');
      state.pendingOverrides = [];
    }
  };

  const nextDeadline = (): number | null => {
    const times = state.pendingOverrides.map((o) => o.revertAtMs);
    const hold = nextHoldExpiry();
    if (hold !== null && patched(LIFECYCLE_PATCH)) times.push(hold);
    const flushAt = flushDueAt();
    if (flushAt !== null) times.push(flushAt);
    if (state.expiresAtMs !== null && state.status !== 'new' && !isTerminal(state.status as CardStatus))
      times.push(state.expiresAtMs);
    return times.length ? Math.min(...times) : null;
  };

  const maxEvents = input.maxHistoryEvents ?? 0;
  const shouldContinueAsNew = (): boolean =>
    workflowInfo().continueAsNewSuggested || (maxEvents > 0 && workflowInfo().historyLength >= maxEvents);
  const issuanceRefused = (): boolean => state.status === 'canceled' && state.userId === null;

  for (;;) {
    const deadline = nextDeadline();
    armedDeadline = deadline;
    rearm = false;
    const woken = () => rearm || issuanceRefused() || shouldContinueAsNew();
    if (deadline === null) await condition(woken);
    else await condition(woken, Math.max(1, deadline - Date.now()));
    if (issuanceRefused()) return; // a refused issuance ends the workflow; an issued card lives on
    if (shouldContinueAsNew()) break;
    try {
      await mutex.run(processDue);
    } catch (err) {
      log.error('timer processing failed; retrying in a minute', { error: String(err) });
      await condition(() => shouldContinueAsNew(), 60_000);
    }
  }
  await condition(allHandlersFinished);
  await mutex.run(flushProjections);
  // Settled transactions older than every spending window only matter for all_time: fold them in.
  const p = state.program;
  if (p)
    state.ledger = compact(state.ledger, windowStart(Date.now(), 'monthly', p.timeZone, p.weekStartsOn)!);
  await continueAsNew<typeof cardWorkflow>({ ...input, state: { ...state, runsSoFar: state.runsSoFar + 1 } });
}
