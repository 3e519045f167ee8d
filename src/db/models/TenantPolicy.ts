import { BaseModel } from './BaseModel';

import type { ProgramPolicy } from '../../domain/policy';

/** One version of a program's policy (append-only). */
export class TenantPolicy extends BaseModel {
  static override tableName = 'tenant_policies';
  static override get idColumn(): string[] {
    return ['tenantId', 'version'];
  }
  static override jsonAttributes = ['policy'];
  declare tenantId: string;
  declare version: number;
  declare policy: ProgramPolicy;
  declare createdBy: string;
  declare reason: string | null;
  declare createdAt: Date;
}
