import { BaseModel } from './BaseModel';

import type { ApiKeyRole } from '../../domain/auth';

/** A hashed API credential; the key itself is shown once, at creation or rotation. */
export class ApiKey extends BaseModel {
  static override tableName = 'api_keys';
  declare id: string;
  declare tenantId: string | null;
  declare role: ApiKeyRole;
  declare name: string;
  declare principal: string;
  declare keyHash: string;
  declare keyPrefix: string;
  declare createdAt: Date;
  declare createdBy: string | null;
  declare revokedAt: Date | null;
  declare expiresAt: Date | null;
  declare lastUsedAt: Date | null;
  declare rotatedAt: Date | null;
  /** The secret a rotation replaced, valid until previousKeyExpiresAt. */
  declare previousKeyHash: string | null;
  declare previousKeyExpiresAt: Date | null;
}
