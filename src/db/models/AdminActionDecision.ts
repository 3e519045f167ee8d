import { BaseModel } from './BaseModel';

/** An approval, rejection, application or reversal of an admin action (append-only). */
export class AdminActionDecision extends BaseModel {
  static override tableName = 'admin_action_decisions';
  static override jsonAttributes = ['after'];
  declare id: number;
  declare tenantId: string;
  declare actionId: string;
  declare decision: 'approved' | 'rejected' | 'applied' | 'failed' | 'reverted';
  declare decidedBy: string;
  declare note: string | null;
  declare after: Record<string, unknown> | null;
  declare createdAt: Date;
}
