import { BaseModel } from './BaseModel';

/** A requested operator action (append-only); decisions about it are AdminActionDecision rows. */
export class AdminAction extends BaseModel {
  static override tableName = 'admin_actions';
  static override jsonAttributes = ['params', 'before'];
  declare id: string;
  declare tenantId: string;
  declare subjectType: string;
  declare subjectId: string;
  declare type: string;
  declare params: Record<string, unknown>;
  declare reason: string;
  declare expiresAt: Date | null;
  declare requestedBy: string;
  declare requiresApproval: boolean;
  declare before: Record<string, unknown> | null;
  declare createdAt: Date;
}
