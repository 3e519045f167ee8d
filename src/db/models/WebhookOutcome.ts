import { BaseModel } from './BaseModel';

/** What processing did with a delivery (append-only; the newest row is current). */
export class WebhookOutcome extends BaseModel {
  static override tableName = 'webhook_outcomes';
  static override jsonAttributes = ['details'];
  declare id: number;
  declare tenantId: string;
  declare deliveryId: string;
  declare outcome: 'applied' | 'duplicate' | 'ignored' | 'rejected' | 'unparseable' | 'parked' | 'failed';
  declare eventId: string | null;
  declare eventType: string | null;
  declare cardId: string | null;
  declare error: string | null;
  declare details: Record<string, unknown>;
  declare createdAt: Date;
}
