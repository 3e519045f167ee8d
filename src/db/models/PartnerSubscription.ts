import { BaseModel } from './BaseModel';

/** A tenant's webhook subscription with one partner: its URL id, event types and signing secrets. */
export class PartnerSubscription extends BaseModel {
  static override tableName = 'partner_subscriptions';
  declare id: string;
  declare tenantId: string;
  declare partner: string;
  declare eventTypes: string[];
  declare status: 'active' | 'paused' | 'disabled';
  declare secretEncrypted: string;
  declare previousSecretEncrypted: string | null;
  declare previousSecretExpiresAt: Date | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}
