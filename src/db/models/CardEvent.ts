import { BaseModel } from './BaseModel';

import type { ActorType, CardStatus } from '../../domain/card-state';

/** One card state transition (append-only). */
export class CardEvent extends BaseModel {
  static override tableName = 'card_events';
  declare id: number;
  declare tenantId: string;
  declare cardId: string;
  declare fromStatus: CardStatus | null;
  declare toStatus: CardStatus;
  declare actorType: ActorType;
  declare actorId: string;
  declare cause: string;
  declare reason: string | null;
  declare eventKey: string;
  declare occurredAt: Date;
  declare createdAt: Date;
}
