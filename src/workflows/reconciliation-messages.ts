/** The reconciliation workflow's inputs, progress query and results (shared with the API). */
import { defineQuery } from '@temporalio/workflow';
import type { DiscrepancyCategory } from '../domain/reconciliation';

export interface ReconciliationInput {
  tenantId: string;
  partner: string;
  trigger: 'schedule' | 'manual';
  /** Set when the API created the run row (manual runs); scheduled runs create their own. */
  runId?: string;
  /** The window's bounds (ms); scheduled runs use [start − lookback, start). */
  fromMs?: number;
  toMs?: number;
  lookbackMs: number;
  /** Changes younger than this at the cutoff are left to the next run (events still in flight). */
  settleMs: number;
  /** Send safe fixes (partner-authoritative events) through the card workflows. */
  autoHeal: boolean;
  /** Time slices of the window read in parallel, and the page size asked of the partner. */
  slices: number;
  pageSize: number;
}

export interface ReconciliationProgress {
  runId: string | null;
  phase:
    'starting' | 'staging_cards' | 'staging_transactions' | 'comparing' | 'healing' | 'completed' | 'failed';
  cardsStaged: number;
  recordsStaged: number;
  pagesFetched: number;
  slices: { total: number; done: number };
  counts: Partial<Record<DiscrepancyCategory, number>>;
  compared: { transactions: number; cards: number } | null;
  opened: number;
  stillOpen: number;
  closed: number;
  acknowledged: number;
  healed: number;
  error: string | null;
}

export const progressQuery = defineQuery<ReconciliationProgress>('progress');

export const reconciliationScheduleId = (tenantId: string, partner: string): string =>
  `reconcile:${tenantId}:${partner}`;
export const reconciliationWorkflowId = (tenantId: string, runId: string): string =>
  `reconcile:${tenantId}:${runId}`;
