import type { PartnerAddress } from '../../partners/adapter';
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
  declare billingAddress: PartnerAddress | null;
  /** The partners' cardholders made for this user, by partner name. */
  declare partnerCardholders: Record<string, string>;
  declare createdAt: Date;
  declare updatedAt: Date;
}
