import { BaseModel } from './BaseModel';

/** A drift between our books and a partner's, and its resolution. */
export class Discrepancy extends BaseModel {
  static override tableName = 'discrepancies';
  static override jsonAttributes = ['internalValue', 'partnerValue', 'evidence'];
  declare id: string;
  declare tenantId: string;
  declare runId: string;
  declare lastSeenRunId: string;
  declare partner: string;
  declare category: string;
  declare fingerprint: string;
  declare cardId: string | null;
  declare transactionId: string | null;
  declare partnerCardId: string | null;
  declare partnerTransactionId: string | null;
  declare internalValue: unknown;
  declare partnerValue: unknown;
  declare evidence: Record<string, unknown>;
  declare status: 'open' | 'resolved';
  declare resolution: string | null;
  declare resolutionNote: string | null;
  declare resolvedBy: string | null;
  declare resolvedAt: Date | null;
  declare subjectAt: Date | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}
