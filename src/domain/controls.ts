import type { SpendingInterval } from './time-windows';

export interface SpendingLimit {
  /** Minor units, in the card's currency. */
  amount: number;
  interval: SpendingInterval;
}

/** What a card may be used for. Program-level rules (regions, blocked MCCs) apply on top. */
export interface CardControls {
  spendingLimits: SpendingLimit[];
  /** ISO 3166-1/-2 codes where the card may be used. */
  allowedRegions: string[];
  blockedMccs: string[];
  /** When non-empty, only these MCCs are admitted. */
  allowedMccs: string[];
  /** Number of approvals the card allows (1 = single-use); null = unlimited. */
  maxAuthorizations: number | null;
}

export type CardControlsInput = Partial<CardControls>;
