import type { ActorType, CardStatus } from '../domain/card-state';
import type { IssuanceRefusal } from '../domain/policy';

export interface ReserveIssuanceInput {
  tenantId: string;
  cardId: string;
  userId: string;
  currency: string;
  controls?: unknown;
  expiresAt?: string;
  metadata?: Record<string, unknown>;
  issuedBy: { type: 'app' | 'operator'; id: string };
  reason?: string;
  /** Workflow time of the request (ms), so a retried activity decides against the same clock. */
  requestedAtMs: number;
}

export type ReserveIssuanceResult =
  | { ok: true; userId: string; region: string; currency: string; expiresAtMs: number; partner: string }
  | { ok: false; refusal: IssuanceRefusal };

export interface CreateAtPartnerInput {
  tenantId: string;
  cardId: string;
}

export interface CreateAtPartnerResult {
  partnerCardId: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export interface RecordTransitionInput {
  tenantId: string;
  cardId: string;
  from: CardStatus | null;
  to: CardStatus;
  frozenBy: ActorType | null;
  actor: { type: ActorType; id: string };
  cause: string;
  reason?: string;
  /** Chosen by the workflow; the same key writes the transition once. */
  eventKey: string;
  occurredAtMs: number;
}

export interface SyncPartnerStatusInput {
  tenantId: string;
  cardId: string;
  status: 'active' | 'frozen' | 'canceled';
}
