import { Mutex } from 'async-mutex';
import { ApplicationFailure, log, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  decideTransition,
  type Actor,
  type ActorType,
  type CardStatus,
  type CardTransition,
} from '../../domain/card-state';
import type { CardControls } from '../../domain/controls';
import { holdLifetimeMs, nextDeadline } from '../../domain/card-deadlines';
import type { LedgerEntry } from '../../domain/ledger';
import { windowStart } from '../../domain/time-windows';
import type { CardSnapshot, PartnerEventInput } from '../messages';
import { CardStatusSA } from '../search-attributes';
import { db, partner } from './activities';
import { RunLength } from './continue-as-new';
import {
  initialState,
  RECENT_RESULTS_KEPT,
  SEEN_EVENTS_KEPT,
  type CardWorkflowInput,
  type CardWorkflowState,
} from './state';

/** A business refusal: the caller gets `code` (an update fails with it; the workflow lives on). */
export function refuse(code: string, message: string, details?: Record<string, unknown>): never {
  throw ApplicationFailure.create({
    type: code,
    message,
    nonRetryable: true,
    details: details ? [details] : undefined,
  });
}

export const SYSTEM: Actor = { type: 'system', id: 'card-workflow' };

/** How long a card trusts its copy of the program policy (each decision records the version it used). */
const PROGRAM_CACHE_MS = 10_000;
/** How long it is kept while the API confirms its policy version is still the one in force. */
const PROGRAM_CACHE_KNOWN_VERSION_MS = 60_000;
/**
 * How long a decision from the books waits for the card's own write of it, by default: the API
 * wrote it as it answered (nearly always), so this is the backstop for an API that died in between,
 * kept rare (one workflow task per card per interval, one indexed look) to stay off the path.
 */
const PROJECTION_FLUSH_MS = 30_000;

/** What a card workflow is started with, apart from the state it carries across runs. */
export type CardSettings = Omit<CardWorkflowInput, 'state'>;

/**
 * One card: its state, the mutex its handlers take, and the writes every concern shares (status
 * transitions, controls, expiry, the delivery outcomes, the program rules). It is the only writer
 * of the card's state; activities persist what it decides. The concerns (issuance.ts,
 * status-changes.ts, overrides.ts, partner-events.ts, authorization.ts, timers.ts) act on it.
 */
export class CardEntity {
  readonly state: CardWorkflowState;
  /** Handlers that await activities and then change state run one at a time. */
  private readonly mutex = new Mutex();
  readonly runLength: RunLength;

  constructor(
    readonly settings: CardSettings,
    carried?: CardWorkflowState,
  ) {
    this.state = { ...initialState(settings.tenantId, settings.cardId), ...carried };
    this.runLength = new RunLength(settings.maxHistoryEvents ?? 0);
  }

  /** Runs `fn` once no other handler is running; every message handler and each pass of the loop do. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.runLength.note();
    return this.mutex.runExclusive(fn);
  }

  // ---- memory across runs: answers by request key, events applied -------------------------------

  remember(key: string | undefined, result: unknown): void {
    if (!key) return;
    const recent = this.state.recentResults;
    // The latest answer for a key is the one that stands (a stand-in replaces a late decision).
    const at = recent.findIndex(([k]) => k === key);
    if (at >= 0) recent.splice(at, 1);
    recent.push([key, result]);
    if (recent.length > RECENT_RESULTS_KEPT) recent.splice(0, recent.length - RECENT_RESULTS_KEPT);
  }

  recalled<T>(key: string | undefined): T | undefined {
    return key ? (this.state.recentResults.find(([k]) => k === key)?.[1] as T | undefined) : undefined;
  }

  /** The delivery that applied an event (undefined: not applied by this card, as far as it remembers). */
  appliedBy(eventId: string): string | null | undefined {
    return this.state.seenEventIds.find(([e]) => e === eventId)?.[1];
  }

  seen(eventId: string): boolean {
    return this.appliedBy(eventId) !== undefined;
  }

  markSeen(eventId: string, deliveryId: string | null): void {
    const seen = this.state.seenEventIds;
    seen.push([eventId, deliveryId]);
    if (seen.length > SEEN_EVENTS_KEPT) seen.splice(0, seen.length - SEEN_EVENTS_KEPT);
  }

  // ---- what the card is -----------------------------------------------------------------------

  /** Issuance was refused: the workflow ends (an issued card lives on). */
  issuanceRefused(): boolean {
    return this.state.status === 'canceled' && this.state.userId === null;
  }

  snapshot(): CardSnapshot {
    const s = this.state;
    return {
      cardId: s.cardId,
      tenantId: s.tenantId,
      status: s.status,
      frozenBy: s.frozenBy,
      historyLength: workflowInfo().historyLength,
      runsSoFar: s.runsSoFar,
      expiresAtMs: s.expiresAtMs,
      controls: s.controls,
      pendingOverrides: s.pendingOverrides.map(({ actionId, type, revertAtMs }) => ({
        actionId,
        type,
        revertAtMs,
      })),
    };
  }

  /** The card's next deadline (see domain/card-deadlines): the main loop's timer is armed for it. */
  nextDeadline(): number | null {
    return nextDeadline({
      status: this.state.status,
      expiresAtMs: this.state.expiresAtMs,
      overrideRevertsAtMs: this.state.pendingOverrides.map((o) => o.revertAtMs),
      ledger: this.state.ledger,
      holdLifetimeMs: this.holdLifetimeMs(),
      flushDueAtMs: this.flushDueAt(),
    });
  }

  holdLifetimeMs(): number | null {
    return holdLifetimeMs(this.settings.holdExpiryMs, this.state.program?.holdExpiryDays);
  }

  /** When the oldest decision taken from the books is due for the card's own write (null: none queued). */
  flushDueAt(): number | null {
    const first = this.state.unprojected[0];
    return first ? first.decidedAtMs + (this.settings.projectionFlushMs ?? PROJECTION_FLUSH_MS) : null;
  }

  // ---- writes every concern shares ----------------------------------------------------------------

  /** Records a status change (no rule check: see move). */
  async transition(
    to: CardStatus,
    frozenBy: ActorType | null,
    actor: Actor,
    cause: string,
    reason?: string,
  ): Promise<void> {
    const s = this.state;
    s.transitionSeq += 1;
    await db.recordTransition({
      tenantId: s.tenantId,
      cardId: s.cardId,
      from: s.status === 'new' ? null : s.status,
      to,
      frozenBy,
      actor,
      cause,
      reason,
      eventKey: `t${s.transitionSeq}`,
      occurredAtMs: Date.now(),
    });
    s.status = to;
    s.frozenBy = frozenBy;
    s.statusChangedAtMs = Math.max(s.statusChangedAtMs ?? 0, Date.now());
    upsertSearchAttributes([{ key: CardStatusSA, value: to }]);
  }

  /** A state-machine transition (refused if the rules do not allow it), told to the partner. */
  async move(t: CardTransition, actor: Actor, cause: string, reason?: string): Promise<void> {
    const s = this.state;
    const d = decideTransition({ status: s.status as CardStatus, frozenBy: s.frozenBy }, t, actor.type);
    if (!d.ok) refuse(d.code, d.reason, { status: s.status, frozenBy: s.frozenBy });
    await this.transition(d.to, d.frozenBy, actor, cause, reason);
    const partnerStatus = d.to === 'expired' ? 'canceled' : d.to;
    if (actor.type === 'partner' || partnerStatus === 'pending') return;
    try {
      await partner.syncPartnerStatus({
        tenantId: s.tenantId,
        cardId: s.cardId,
        status: partnerStatus,
        changeKey: `t${s.transitionSeq}`,
        ...(reason ? { reason } : {}),
      });
    } catch (err) {
      // Our decision stands; the drift between the books is what reconciliation finds and explains.
      log.warn('could not tell the partner about a status change', { to: partnerStatus, error: String(err) });
    }
  }

  async setControls(controls: CardControls): Promise<void> {
    await db.updateCardControls({ tenantId: this.state.tenantId, cardId: this.state.cardId, controls });
    this.state.controls = controls;
  }

  async setExpiry(expiresAtMs: number): Promise<void> {
    await db.updateCardExpiry({ tenantId: this.state.tenantId, cardId: this.state.cardId, expiresAtMs });
    this.state.expiresAtMs = expiresAtMs;
  }

  /** The delivery's outcome, when the event came from a stored delivery. */
  async recordOutcome(
    from: PartnerEventInput,
    outcome: 'applied' | 'duplicate' | 'ignored' | 'failed',
    details?: Record<string, unknown>,
    error?: string,
  ): Promise<void> {
    if (!from.deliveryId) return;
    await db.recordOutcome({
      tenantId: this.state.tenantId,
      deliveryId: from.deliveryId,
      outcome,
      eventId: from.event.eventId,
      eventType: from.event.kind,
      cardId: this.state.cardId,
      // An operator's replay is a later pass: its outcomes are marked so (outside the one-final rule).
      details: { source: from.source, ...(from.replay ? { replay: true } : {}), ...details },
      error,
    });
  }

  // ---- the program's rules ----------------------------------------------------------------------

  /**
   * The program rules, reloaded when stale. The API says which policy version is in force: while
   * the card's copy has it, the copy is kept longer (only the user's own cap can change under the
   * same version), so an authorization does not stop to reload the rules every 10 s.
   */
  async program(knownVersion?: number): Promise<NonNullable<CardWorkflowState['program']>> {
    const s = this.state;
    const p = s.program;
    const current = knownVersion !== undefined && p?.version === knownVersion;
    const stale = knownVersion !== undefined && p !== null && p.version !== knownVersion;
    const maxAgeMs = current ? PROGRAM_CACHE_KNOWN_VERSION_MS : PROGRAM_CACHE_MS;
    if (!p || stale || Date.now() - p.loadedAtMs > maxAgeMs)
      s.program = {
        ...(await db.loadProgram({ tenantId: s.tenantId, userId: s.userId })),
        loadedAtMs: Date.now(),
      };
    return s.program!;
  }

  /** The week (program time zone) an entry counts in for its user's weekly spend (null: no rules yet). */
  weekOf(e: LedgerEntry): number | null {
    const p = this.state.program;
    return p ? windowStart(e.atMs, 'weekly', p.timeZone, p.weekStartsOn) : null;
  }
}
