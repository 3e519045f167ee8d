import type { ActorType, CardStatus } from '../domain/card-state';

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
  /** Number of runs before this one (continue-as-new). */
  runsSoFar: number;
  /** Monotonic counter for event keys of state transitions, so keys stay unique across runs. */
  transitionSeq: number;
}

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
    runsSoFar: 0,
    transitionSeq: 0,
  };
}
