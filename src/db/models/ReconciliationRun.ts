import { BaseModel } from './BaseModel';

/** One comparison of our books with a partner's for a time window. */
export class ReconciliationRun extends BaseModel {
  static override tableName = 'reconciliation_runs';
  static override jsonAttributes = ['counts', 'progress', 'options'];
  declare id: string;
  declare tenantId: string;
  declare partner: string;
  declare windowFrom: Date;
  declare windowTo: Date;
  declare status: 'running' | 'completed' | 'failed';
  declare trigger: 'schedule' | 'manual';
  declare workflowId: string;
  declare counts: Record<string, number>;
  declare progress: Record<string, unknown>;
  declare options: Record<string, unknown>;
  declare cutoffAt: Date | null;
  declare error: string | null;
  declare startedAt: Date;
  declare finishedAt: Date | null;
}
