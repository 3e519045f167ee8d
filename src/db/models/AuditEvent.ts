import { BaseModel } from './BaseModel';

/** A sensitive access, such as a card-number reveal (append-only). */
export class AuditEvent extends BaseModel {
  static override tableName = 'audit_events';
  static override jsonAttributes = ['details'];
  declare id: number;
  declare tenantId: string;
  declare actorType: string;
  declare actorId: string;
  declare action: string;
  declare subjectType: string;
  declare subjectId: string;
  declare requestId: string | null;
  declare details: Record<string, unknown>;
  declare createdAt: Date;
}
