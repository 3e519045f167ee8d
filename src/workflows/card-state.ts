import type { ActorType, CardStatus } from '../domain/card-state';
import type { CardControls } from '../domain/controls';
import type { CardActionType } from '../domain/overrides';

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
  /** Number of runs before this one (continue-as-new). */
  runsSoFar: number;
  /** Monotonic counter for event keys of state transitions, so keys stay unique across runs. */
  transitionSeq: number;
}

export const RECENT_RESULTS_KEPT = 500;

export interface CardWorkflowInput {
  tenantId: string;
  cardId: string;
  /** Present when continuing as new. */
  state?: CardWorkflowState;
  /** Continue as new after this many history events (tests force it low); Temporal's suggestion always applies. */
  maxHistoryEvents?: number;
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
    runsSoFar: 0,
    transitionSeq: 0,
  };
}
