import { BaseModel } from './BaseModel';

/** A tenant's webhook subscription with one partner: its URL id, event types, signing secrets and what outbound calls need. */
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
  declare authorizationSecretEncrypted: string | null;
  declare apiKeyEncrypted: string | null;
  declare apiBaseUrl: string | null;
  declare stripeVersion: string | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}
