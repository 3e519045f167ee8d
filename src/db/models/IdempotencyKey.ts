import { BaseModel } from './BaseModel';

/** A client's Idempotency-Key and the first response it got. */
export class IdempotencyKey extends BaseModel {
  static override tableName = 'idempotency_keys';
  static override get idColumn(): string[] {
    return ['scope', 'key'];
  }
  static override jsonAttributes = ['responseBody'];
  declare scope: string;
  declare tenantId: string | null;
  declare key: string;
  declare method: string;
  declare path: string;
  declare requestHash: string;
  declare status: 'in_progress' | 'completed';
  declare responseStatus: number | null;
  declare responseBody: unknown;
  declare createdAt: Date;
  declare completedAt: Date | null;
}
