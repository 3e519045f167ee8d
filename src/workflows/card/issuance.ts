/**
 * Issuance: the `issue` update. The card's row and the issuance checks in one activity, then the
 * card at the partner, then any partner events that arrived before the card was known.
 */
import { log, upsertSearchAttributes } from '@temporalio/workflow';
import type { IssueCardInput, IssueCardResult } from '../messages';
import { CardStatusSA, RegionSA, UserIdSA } from '../search-attributes';
import { db, partner } from './activities';
import { refuse, type CardEntity } from './entity';
import { applyPartnerEvent } from './partner-events';

const ISSUANCE = { type: 'system', id: 'issuance' } as const;

export function validateIssue(card: CardEntity, req: IssueCardInput): void {
  const s = card.state;
  if (req.cardId !== s.cardId || req.tenantId !== s.tenantId) refuse('VALIDATION_FAILED', 'card id mismatch');
  // The card id derives from the Idempotency-Key: the same key with another body is not this card.
  if (s.status !== 'new' && s.issueRequestHash && req.requestHash && req.requestHash !== s.issueRequestHash)
    refuse('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request');
}

/** Issues the card once; a repeated `issue` gets the card as it is. */
export async function issue(card: CardEntity, req: IssueCardInput): Promise<IssueCardResult> {
  const s = card.state;
  if (s.status !== 'new') return { cardId: s.cardId, status: s.status };
  s.issueRequestHash = req.requestHash ?? null;
  const reserved = await db.reserveIssuance({ ...req, requestedAtMs: Date.now() });
  if (!reserved.ok) {
    s.status = 'canceled'; // with no user: the workflow ends (see CardEntity.issuanceRefused)
    refuse(reserved.refusal.code, reserved.refusal.message, reserved.refusal.details);
  }
  s.status = 'pending';
  s.userId = reserved.userId;
  s.region = reserved.region;
  s.currency = reserved.currency;
  s.expiresAtMs = reserved.expiresAtMs;
  s.partner = reserved.partner;
  s.controls = reserved.controls;
  s.transitionSeq = 1; // t1 = the pending row written with the reservation
  upsertSearchAttributes([
    { key: UserIdSA, value: reserved.userId },
    { key: RegionSA, value: reserved.region },
    { key: CardStatusSA, value: 'pending' },
  ]);
  try {
    await partner.createAtPartner({ tenantId: s.tenantId, cardId: s.cardId });
  } catch (err) {
    log.error('partner card creation failed; canceling the pending card', { error: String(err) });
    await card.transition('canceled', null, ISSUANCE, 'partner_create_failed');
    refuse('PARTNER_UNAVAILABLE', 'the partner could not create the card');
  }
  await card.transition('active', null, ISSUANCE, 'issued');
  s.statusChangedAtMs = Date.now();
  // Partner events that raced issuance were parked; they are this card's now.
  for (const parked of await db.claimParkedEvents({ tenantId: s.tenantId, cardId: s.cardId }))
    await applyPartnerEvent(card, parked, { quietDuplicate: true });
  return { cardId: s.cardId, status: s.status };
}
