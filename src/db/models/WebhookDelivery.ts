import { BaseModel } from './BaseModel';

/** An inbound partner delivery exactly as received (append-only). */
export class WebhookDelivery extends BaseModel {
  static override tableName = 'webhook_deliveries';
  static override jsonAttributes = ['headers'];
  declare id: string;
  declare tenantId: string;
  declare subscriptionId: string;
  declare partner: string;
  declare headers: Record<string, string>;
  declare rawBody: Buffer;
  declare requestId: string | null;
  declare receivedAt: Date;
}
