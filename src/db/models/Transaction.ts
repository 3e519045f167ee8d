import { BaseModel } from './BaseModel';

/** Current snapshot of one authorization/transaction, written by the card workflow. */
export class Transaction extends BaseModel {
  static override tableName = 'transactions';
  static override jsonAttributes = ['merchant'];
  declare id: string;
  declare tenantId: string;
  declare cardId: string;
  declare partner: string;
  declare partnerTransactionId: string;
  declare status: 'pending' | 'closed' | 'declined' | 'reversed' | 'expired';
  declare currency: string;
  declare authorizedAmount: number;
  declare heldAmount: number;
  declare capturedAmount: number;
  declare refundedAmount: number;
  declare reversedAmount: number;
  declare merchant: Record<string, unknown> | null;
  declare declineCode: string | null;
  declare flags: string[];
  declare authorizedAt: Date | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}
