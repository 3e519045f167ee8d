/**
 * A partner's `card.status` event read against the card: what it changes, if anything. Pure; the
 * card workflow records the transition (or the reason for ignoring the event).
 *
 * The partner's events arrive in any order, so each is judged by when it happened: an event older
 * than the card's last status change is stale, except a cancellation, which nothing undoes at the
 * partner. The card's watermark (`statusChangedAtMs`) also rises when the partner confirms the
 * status the card already has, so an older event arriving after that confirmation (an unfreeze
 * delivered before its freeze) is stale too.
 */
import {
  decideTransition,
  type ActorType,
  type CardStatus,
  type CardTransition,
  type TransitionRefusalCode,
} from './card-state';

export interface PartnerStatusView {
  status: CardStatus | 'new';
  frozenBy: ActorType | null;
  /** Partner time of the card's last status change (the watermark); null before the first. */
  statusChangedAtMs: number | null;
}

export interface PartnerStatusEvent {
  status: 'active' | 'frozen' | 'canceled';
  occurredAtMs: number;
}

export type PartnerStatusOutcome =
  /** Older than the card's last status change, and not a cancellation: ignored. */
  | { kind: 'stale' }
  /** The card already is as the partner says: ignored, the watermark raised to `statusChangedAtMs`. */
  | { kind: 'unchanged'; statusChangedAtMs: number }
  /** The state machine does not let the partner make this change. */
  | { kind: 'refused'; transition: CardTransition; code: TransitionRefusalCode; reason: string }
  /** The card moves; its watermark becomes the event's time. */
  | {
      kind: 'apply';
      transition: CardTransition;
      to: CardStatus;
      frozenBy: ActorType | null;
      statusChangedAtMs: number;
    };

/** The transition that brings a card from `current` to the partner's `wanted` status (null: none does). */
export function transitionToward(
  current: CardStatus | 'new',
  wanted: PartnerStatusEvent['status'],
): CardTransition | null {
  if (wanted === current) return null;
  if (wanted === 'frozen') return 'freeze';
  if (wanted === 'canceled') return 'cancel';
  // wanted === 'active': only a frozen card becomes active again (a canceled one stays canceled).
  return current === 'frozen' ? 'unfreeze' : null;
}

export function partnerStatusChange(card: PartnerStatusView, ev: PartnerStatusEvent): PartnerStatusOutcome {
  if (ev.status !== 'canceled' && card.statusChangedAtMs !== null && ev.occurredAtMs < card.statusChangedAtMs)
    return { kind: 'stale' };
  const transition = transitionToward(card.status, ev.status);
  if (!transition)
    return { kind: 'unchanged', statusChangedAtMs: Math.max(card.statusChangedAtMs ?? 0, ev.occurredAtMs) };
  // A card not issued yet ('new') is in no state the machine moves from: refused.
  const d = decideTransition(
    { status: card.status as CardStatus, frozenBy: card.frozenBy },
    transition,
    'partner',
  );
  if (!d.ok) return { kind: 'refused', transition, code: d.code, reason: d.reason };
  return { kind: 'apply', transition, to: d.to, frozenBy: d.frozenBy, statusChangedAtMs: ev.occurredAtMs };
}
