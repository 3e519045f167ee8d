import { BaseModel } from './BaseModel';

import type { ActorType, CardStatus } from '../../domain/card-state';
import type { CardControls } from '../../domain/controls';

/** Current snapshot of a card; the card workflow is its only writer. Never holds the full number. */
export class Card extends BaseModel {
  static override tableName = 'cards';
  static override jsonAttributes = ['controls', 'metadata'];
  declare id: string;
  declare tenantId: string;
  declare userId: string;
  declare status: CardStatus;
  declare frozenBy: ActorType | null;
  declare currency: string;
  declare controls: CardControls;
  declare expiresAt: Date;
  declare expMonth: number | null;
  declare expYear: number | null;
  declare last4: string | null;
  declare partner: string;
  declare partnerCardId: string | null;
  declare vaultEntryId: string | null;
  declare workflowId: string;
  declare region: string | null;
  declare issuedByType: 'app' | 'operator';
  declare issuedById: string;
  declare issueReason: string | null;
  declare policyVersion: number;
  declare metadata: Record<string, unknown>;
  declare statusChangedAt: Date;
  declare createdAt: Date;
  declare updatedAt: Date;
}
