import { BaseModel } from './BaseModel';

/** An encrypted card number and CVC (AES-256-GCM); keyId names the key for rotation. */
export class VaultEntry extends BaseModel {
  static override tableName = 'vault_entries';
  declare id: string;
  declare tenantId: string;
  declare cardId: string;
  declare keyId: string;
  declare iv: Buffer;
  declare ciphertext: Buffer;
  declare authTag: Buffer;
  declare createdAt: Date;
  declare rotatedAt: Date | null;
}
