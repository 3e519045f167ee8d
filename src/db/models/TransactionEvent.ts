import { BaseModel } from './BaseModel';

/** A normalized partner transaction event (append-only). */
export class TransactionEvent extends BaseModel {
  static override tableName = 'transaction_events';
  static override jsonAttributes = ['data'];
  declare id: number;
  declare tenantId: string;
  declare cardId: string;
  declare transactionId: string | null;
  declare partnerTransactionId: string | null;
  declare type: string;
  declare amount: number;
  declare currency: string;
  declare source: 'partner' | 'reconciliation' | 'system';
  declare deliveryId: string | null;
  declare eventKey: string;
  declare data: Record<string, unknown>;
  declare occurredAt: Date;
  declare createdAt: Date;
}
