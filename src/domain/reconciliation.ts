/**
 * Reconciliation rules that need no database: the categories and resolutions, how a window is cut
 * into slices read in parallel, and which discrepancies are safe to heal with which events.
 */
import { amountsOutOfRange, type CanonicalEvent } from './events';

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

/** One of the partner's records, as a discrepancy's evidence carries it. */
export interface EvidenceRecord {
  id: string;
  type: string;
  amount: number;
  currency?: string;
  /** The partner's webhook event for this record (null: it sent none). */
  eventId?: string | null;
  occurredAt?: string;
}

export interface HealableDiscrepancy {
  id: string;
  category: DiscrepancyCategory;
  partner: string;
  partnerCardId: string;
  partnerTransactionId: string | null;
  internalValue: Record<string, unknown> | null;
  partnerValue: Record<string, unknown> | null;
  /** The partner's records of the transaction and the events our books applied (their keys). */
  evidence?: {
    partnerRecords?: EvidenceRecord[];
    transactionEvents?: Array<{ eventKey?: string | null }>;
  } | null;
}

/**
 * The event id a fix for one of the partner's records carries: the partner's own webhook event
 * id, so that the webhook, should it arrive after all, is a duplicate the card ignores; for a
 * record the partner never announced, an id derived from the record.
 */
export const partnerRecordEventId = (r: Pick<EvidenceRecord, 'id' | 'eventId'>): string =>
  r.eventId ?? `partner-record:${r.id}`;

const restrictiveness = { active: 0, frozen: 1, canceled: 2 } as const;
type Status = keyof typeof restrictiveness;
const isStatus = (s: unknown): s is Status => typeof s === 'string' && s in restrictiveness;

const MONEY_TYPES = ['reversal', 'clearing', 'refund'] as const;
type MoneyType = (typeof MONEY_TYPES)[number];

/**
 * The events that heal a discrepancy, when the partner's record is authoritative and each event is
 * one the platform would have applied had the partner's webhook arrived; null when an operator
 * must decide. Safe fixes:
 * - a card the partner holds more restrictively (frozen or canceled): its status event (never the
 *   other way: a card we froze stays frozen until an operator says otherwise);
 * - a hold the partner expired: its expiry record;
 * - a transaction whose partner figures only exceed ours (a missed capture, refund or reversal)
 *   with the same authorization: each of the partner's records our books never applied, and for
 *   what is still missing beyond those (a record we applied for less than the partner booked),
 *   one correction of the difference.
 * A record's fix carries the partner's event id (`partnerRecordEventId`): healing twice, or the
 * late webhook after a heal, applies nothing twice. A correction is only for records whose
 * webhooks were applied already, so no late webhook can add to it.
 */
export function healingEvents(d: HealableDiscrepancy, nowMs: number): CanonicalEvent[] | null {
  const base = { partner: d.partner, partnerCardId: d.partnerCardId };
  if (d.category === 'card_status_mismatch') {
    const ours = d.internalValue?.status;
    const theirs = d.partnerValue?.status;
    if (!isStatus(ours) || !isStatus(theirs) || restrictiveness[theirs] <= restrictiveness[ours]) return null;
    // A status event is idempotent by its meaning (the card is already so: nothing changes).
    return [
      {
        ...base,
        kind: 'card.status',
        eventId: `recon:${d.id}:status`,
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
  const applied = new Set((d.evidence?.transactionEvents ?? []).map((e) => e.eventKey));
  const unapplied = (type: string) =>
    (d.evidence?.partnerRecords ?? [])
      .filter((r) => r.type === type && !applied.has(`${d.partner}:${partnerRecordEventId(r)}`))
      .sort((a, b) => String(a.occurredAt ?? '').localeCompare(String(b.occurredAt ?? '')));
  const timeOf = (r: EvidenceRecord) => {
    const at = r.occurredAt ? Date.parse(r.occurredAt) : NaN;
    return Number.isFinite(at) ? at : (theirs.lastAtMs ?? nowMs);
  };
  if (d.category === 'stale_hold') {
    if (!theirs.expired || ours.held <= 0) return null;
    const expiry = unapplied('expiry')[0];
    if (!expiry) return null;
    return [
      {
        ...base,
        kind: 'authorization.expiry',
        eventId: partnerRecordEventId(expiry),
        occurredAtMs: timeOf(expiry),
        transactionId: ptx,
      },
    ];
  }
  if (d.category !== 'amount_mismatch') return null;
  if (ours.currency !== theirs.currency || ours.authorized !== theirs.authorized) return null;
  const missing: Record<MoneyType, number> = {
    reversal: theirs.reversed - ours.reversed,
    clearing: theirs.captured - ours.captured,
    refund: theirs.refunded - ours.refunded,
  };
  // Without the partner's records there is nothing to name the fixes by.
  if (!d.evidence?.partnerRecords?.length) return null;
  const events: CanonicalEvent[] = [];
  const push = (type: MoneyType, eventId: string, amount: number, atMs: number, refundId: string) => {
    const common = { ...base, eventId, occurredAtMs: atMs, transactionId: ptx, amount };
    if (type === 'reversal') events.push({ ...common, kind: 'authorization.reversal' });
    else if (type === 'clearing') events.push({ ...common, kind: 'clearing', currency: theirs.currency });
    else events.push({ ...common, kind: 'refund', refundId, currency: theirs.currency });
  };
  for (const type of MONEY_TYPES) {
    if (missing[type] < 0) return null;
    const records = unapplied(type);
    const correction = missing[type] - records.reduce((sum, r) => sum + Number(r.amount), 0);
    // Records we never applied that come to more than is missing: the books differ otherwise.
    if (correction < 0) return null;
    for (const r of records) push(type, partnerRecordEventId(r), Number(r.amount), timeOf(r), r.id);
    if (correction > 0)
      push(type, `recon:${d.id}:${type}`, correction, theirs.lastAtMs ?? nowMs, `recon:${d.id}`);
  }
  // An amount beyond the platform's maximum is refused at ingest; a heal does not book one either
  // (an operator looks at it).
  if (events.some((e) => amountsOutOfRange(e).length > 0)) return null;
  return events.length ? events : null;
}
