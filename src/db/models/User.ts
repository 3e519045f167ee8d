import { BaseModel } from './BaseModel';

/** A shopper who holds cards. */
export class User extends BaseModel {
  static override tableName = 'users';
  declare id: string;
  declare tenantId: string;
  declare externalId: string;
  declare name: string;
  declare email: string | null;
  declare region: string;
  declare status: 'active' | 'suspended';
  declare createdAt: Date;
  declare updatedAt: Date;
}
