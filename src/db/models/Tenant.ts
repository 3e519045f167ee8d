import { BaseModel } from './BaseModel';

/** A card program: one tenant of the platform. */
export class Tenant extends BaseModel {
  static override tableName = 'tenants';
  declare id: string;
  declare slug: string;
  declare name: string;
  declare status: 'active' | 'suspended';
  declare policyVersion: number;
  declare createdAt: Date;
  declare updatedAt: Date;
}
