import { BaseModel } from './BaseModel';

import type { ApiKeyRole } from '../../domain/auth';

/** A hashed API credential; the key itself is shown once, at creation. */
export class ApiKey extends BaseModel {
  static override tableName = 'api_keys';
  declare id: string;
  declare tenantId: string | null;
  declare role: ApiKeyRole;
  declare name: string;
  declare keyHash: string;
  declare keyPrefix: string;
  declare createdAt: Date;
  declare revokedAt: Date | null;
}
