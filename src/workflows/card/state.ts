import type { ActorType, CardStatus } from '../../domain/card-state';
import type { CardControls } from '../../domain/controls';
import type { CardActionType } from '../../domain/overrides';
import { emptyLedger, type Ledger } from '../../domain/ledger';
import type { ProgramForDecision } from '../../domain/authorization';
import type { RecordMoneyEventInput } from '../../domain/card-records';

/** An applied override that a timer will revert. */
export interface PendingOverride {
  actionId: string;
  type: CardActionType;
  revertAtMs: number;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/** Everything a card workflow carries across continue-as-new. JSON-serialisable. */
export interface CardWorkflowState {
  tenantId: string;
  cardId: string;
  status: CardStatus | 'new';
  frozenBy: ActorType | null;
  userId: string | null;
  region: string | null;
  currency: string | null;
  expiresAtMs: number | null;
  partner: string | null;
  controls: CardControls | null;
  /** Overrides with an expiry, reverted by the workflow's timer. */
  pendingOverrides: PendingOverride[];
  /** Idempotency map: request key → result, newest last, bounded. Temporal's update-id dedupe lasts one run only. */
  recentResults: Array<[string, unknown]>;
  /** The card's books: the workflow is the only writer of its balances. */
  ledger: Ledger;
  /** Approved authorizations so far (maxAuthorizations). */
  approvals: number;
  /** Counter behind the commit keys of money-event writes (unique per card across runs). */
  moneySeq: number;
  /** Partner time of the last status change, to refuse stale card.updated events. */
  statusChangedAtMs: number | null;
  /** Partner events already applied, with the delivery that applied each, newest last, bounded (the database's unique keys are the backstop). */
  seenEventIds: Array<[string, string | null]>;
  /** The program rules an authorization needs, with the policy version and when they were loaded. */
  program:
    | (ProgramForDecision & {
        version: number;
        loadedAtMs: number;
        /** Absent in states carried over from before these were loaded. */
        holdExpiryDays?: number;
        weeklySpendLimit?: number | null;
      })
    | null;
  /** Hash of the request that issued the card (its id derives from that request's Idempotency-Key). */
  issueRequestHash: string | null;
  /** Number of runs before this one (continue-as-new). */
  runsSoFar: number;
  /** Monotonic counter for event keys of state transitions, so keys stay unique across runs. */
  transitionSeq: number;
  /**
   * Authorizations decided from the card's books whose database write the card has not yet made
   * itself (the API makes it as it answers), oldest first; written before any other money write.
   */
  unprojected: Array<RecordMoneyEventInput & { decidedAtMs: number }>;
}

export const RECENT_RESULTS_KEPT = 500;
export const SEEN_EVENTS_KEPT = 2000;

export interface CardWorkflowInput {
  tenantId: string;
  cardId: string;
  /** Present when continuing as new. */
  state?: CardWorkflowState;
  /**
   * How long an authorization decided from the card's own books may wait for the card's own write
   * of it (the API writes it as it answers; this is the backstop). Default 30 s; tests shorten it.
   */
  projectionFlushMs?: number;
  /** Continue as new after this many history events (tests force it low); Temporal's suggestion always applies. */
  maxHistoryEvents?: number;
  /** Overrides the program's holdExpiryDays (tests use seconds). */
  holdExpiryMs?: number;
}

export function initialState(tenantId: string, cardId: string): CardWorkflowState {
  return {
    tenantId,
    cardId,
    status: 'new',
    frozenBy: null,
    userId: null,
    region: null,
    currency: null,
    expiresAtMs: null,
    partner: null,
    controls: null,
    pendingOverrides: [],
    recentResults: [],
    ledger: emptyLedger(),
    approvals: 0,
    moneySeq: 0,
    statusChangedAtMs: null,
    seenEventIds: [],
    program: null,
    issueRequestHash: null,
    runsSoFar: 0,
    transitionSeq: 0,
    unprojected: [],
  };
}
