/**
 * Reconciliation rules that need no database: the categories and resolutions, how a window is cut
 * into slices read in parallel, and which discrepancies are safe to heal with which events.
 */
import type { CanonicalEvent } from './events';

export const DISCREPANCY_CATEGORIES = [
  'card_status_mismatch',
  'missing_internal_transaction',
  'missing_partner_transaction',
  'amount_mismatch',
  'duplicate_capture',
  'stale_hold',
  'orphan_partner_card',
  'currency_mismatch',
] as const;
export type DiscrepancyCategory = (typeof DISCREPANCY_CATEGORIES)[number];

export const RESOLUTIONS = [
  'auto_healed',
  'partner_event_replayed',
  'manual_adjustment',
  'accepted',
  'false_positive',
] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
/** Resolutions an operator may give; `auto_healed` is the platform's own. */
export const OPERATOR_RESOLUTIONS: readonly Resolution[] = RESOLUTIONS.filter((r) => r !== 'auto_healed');

/** Cuts [fromMs, toMs) into `n` contiguous slices of (nearly) equal length, none empty. */
export function sliceWindow(
  fromMs: number,
  toMs: number,
  n: number,
): Array<{ fromMs: number; toMs: number }> {
  if (!(toMs > fromMs)) return [];
  // A count that is not a number (an argument missing from an old schedule) reads one slice.
  const count = Math.max(1, Math.min(Number.isFinite(n) ? Math.floor(n) : 1, toMs - fromMs));
  const out: Array<{ fromMs: number; toMs: number }> = [];
  for (let i = 0; i < count; i++) {
    const a = fromMs + Math.floor(((toMs - fromMs) * i) / count);
    const b = i === count - 1 ? toMs : fromMs + Math.floor(((toMs - fromMs) * (i + 1)) / count);
    if (b > a) out.push({ fromMs: a, toMs: b });
  }
  return out;
}

/** Both sides' figures of one transaction, as the comparison records them. */
export interface TransactionFigures {
  currency: string;
  authorized: number;
  captured: number;
  refunded: number;
  reversed: number;
  held: number;
  expired: boolean;
  /** The partner's time of its latest record (ms), for the healing events' time. */
  lastAtMs?: number;
}

export interface HealableDiscrepancy {
  id: string;
  category: DiscrepancyCategory;
  partner: string;
  partnerCardId: string;
  partnerTransactionId: string | null;
  internalValue: Record<string, unknown> | null;
  partnerValue: Record<string, unknown> | null;
}

const restrictiveness = { active: 0, frozen: 1, canceled: 2 } as const;
type Status = keyof typeof restrictiveness;
const isStatus = (s: unknown): s is Status => typeof s === 'string' && s in restrictiveness;

/**
 * The events that heal a discrepancy, when the partner's record is authoritative and each event is
 * one the platform would have applied had the partner's webhook arrived; null when an operator
 * must decide. Safe fixes:
 * - a card the partner holds more restrictively (frozen or canceled): its status event (never the
 *   other way: a card we froze stays frozen until an operator says otherwise);
 * - a hold the partner expired: the expiry;
 * - a transaction whose partner figures only exceed ours (a missed capture, refund or reversal)
 *   with the same authorization: the missing capture, refund or reversal.
 * Event ids derive from the discrepancy, so healing twice applies nothing twice.
 */
export function healingEvents(d: HealableDiscrepancy, nowMs: number): CanonicalEvent[] | null {
  const base = { partner: d.partner, partnerCardId: d.partnerCardId };
  const eventId = (suffix: string) => `recon:${d.id}:${suffix}`;
  if (d.category === 'card_status_mismatch') {
    const ours = d.internalValue?.status;
    const theirs = d.partnerValue?.status;
    if (!isStatus(ours) || !isStatus(theirs) || restrictiveness[theirs] <= restrictiveness[ours]) return null;
    return [
      {
        ...base,
        kind: 'card.status',
        eventId: eventId('status'),
        occurredAtMs: nowMs,
        status: theirs,
        reason: `reconciliation: the partner reports the card ${theirs}`,
      },
    ];
  }
  const ptx = d.partnerTransactionId;
  if (!ptx) return null;
  const ours = d.internalValue as unknown as TransactionFigures | null;
  const theirs = d.partnerValue as unknown as TransactionFigures | null;
  if (!ours || !theirs) return null;
  const at = theirs.lastAtMs ?? nowMs;
  if (d.category === 'stale_hold') {
    if (!theirs.expired || ours.held <= 0) return null;
    return [
      {
        ...base,
        kind: 'authorization.expiry',
        eventId: eventId('expiry'),
        occurredAtMs: at,
        transactionId: ptx,
      },
    ];
  }
  if (d.category !== 'amount_mismatch') return null;
  if (ours.currency !== theirs.currency || ours.authorized !== theirs.authorized) return null;
  const missing = {
    captured: theirs.captured - ours.captured,
    refunded: theirs.refunded - ours.refunded,
    reversed: theirs.reversed - ours.reversed,
  };
  if (missing.captured < 0 || missing.refunded < 0 || missing.reversed < 0) return null;
  const events: CanonicalEvent[] = [];
  if (missing.reversed > 0)
    events.push({
      ...base,
      kind: 'authorization.reversal',
      eventId: eventId('reversal'),
      occurredAtMs: at,
      transactionId: ptx,
      amount: missing.reversed,
    });
  if (missing.captured > 0)
    events.push({
      ...base,
      kind: 'clearing',
      eventId: eventId('clearing'),
      occurredAtMs: at,
      transactionId: ptx,
      amount: missing.captured,
      currency: theirs.currency,
    });
  if (missing.refunded > 0)
    events.push({
      ...base,
      kind: 'refund',
      eventId: eventId('refund'),
      occurredAtMs: at,
      refundId: `recon:${d.id}`,
      transactionId: ptx,
      amount: missing.refunded,
      currency: theirs.currency,
    });
  return events.length ? events : null;
}
