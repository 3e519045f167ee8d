/**
 * The authorization decision: one pure function over the card, the program and the request.
 * Returns approval or the first decline code that applies, in a fixed order.
 */
import type { CardStatus } from './card-state';
import type { CardControls } from './controls';
import {
  availableFor,
  findEntry,
  heldOf,
  ops,
  upsert,
  usageIn,
  type Ledger,
  type LedgerEntry,
  type WindowClock,
} from './ledger';
import { spentIn } from './balances';
import { regionsAdmit } from './regions';

export const DECLINE_CODES = [
  'CARD_NOT_ACTIVE',
  'CARD_EXPIRED',
  'CURRENCY_MISMATCH',
  'REGION_NOT_ALLOWED',
  'MCC_BLOCKED',
  'MAX_AUTHORIZATIONS_REACHED',
  'EXCEEDS_PER_AUTHORIZATION_LIMIT',
  'EXCEEDS_SPENDING_LIMIT',
  'EXCEEDS_USER_WEEKLY_LIMIT',
  'STAND_IN',
] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];

export interface Merchant {
  name?: string;
  mcc: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** ISO 3166-2 where known. */
  region?: string;
}

export interface AuthorizationRequest {
  amount: number;
  currency: string;
  merchant: Merchant;
  atMs: number;
}

export interface CardForDecision {
  status: CardStatus | 'new';
  currency: string;
  controls: CardControls;
  expiresAtMs: number;
  /** Approvals so far (for maxAuthorizations). */
  approvals: number;
}

export interface ProgramForDecision {
  regions: readonly string[];
  blockedMccs: readonly string[];
  timeZone: WindowClock['timeZone'];
  weekStartsOn: WindowClock['weekStartsOn'];
}

export type AuthorizationDecision =
  | {
      approved: true;
      /** A partial approval: less than was asked (absent: all of it). */
      approvedAmount?: number;
    }
  | { approved: false; declineCode: DeclineCode; reason: string };

/** The declines a partial approval can turn into an approval of what the limits leave. */
const PARTIAL_CODES: readonly DeclineCode[] = ['EXCEEDS_PER_AUTHORIZATION_LIMIT', 'EXCEEDS_SPENDING_LIMIT'];

/**
 * The most a partial approval may hold: the least any of the card's limits leaves (the
 * per-authorization limit itself, each window's limit less what it has spent).
 */
export function partialApprovalRoom(
  card: CardForDecision,
  program: ProgramForDecision,
  ledger: Ledger,
  atMs: number,
): number {
  const available = availableFor(ledger, card.controls.spendingLimits, {
    nowMs: atMs,
    timeZone: program.timeZone,
    weekStartsOn: program.weekStartsOn,
  });
  return Math.min(...Object.values(available));
}

const decline = (declineCode: DeclineCode, reason: string): AuthorizationDecision => ({
  approved: false,
  declineCode,
  reason,
});

/** Where the merchant is, as precisely as known: its subdivision, else its country. */
export const merchantPlace = (m: Merchant): string => m.region ?? m.country;

export function decideAuthorization(
  card: CardForDecision,
  program: ProgramForDecision,
  ledger: Ledger,
  req: AuthorizationRequest,
): AuthorizationDecision {
  if (card.status === 'expired' || (card.status === 'active' && req.atMs >= card.expiresAtMs))
    return decline('CARD_EXPIRED', 'the card has expired');
  if (card.status !== 'active') return decline('CARD_NOT_ACTIVE', `the card is ${card.status}`);
  if (req.currency !== card.currency) return decline('CURRENCY_MISMATCH', `the card is in ${card.currency}`);
  const place = merchantPlace(req.merchant);
  if (!regionsAdmit(card.controls.allowedRegions, place)) {
    return decline('REGION_NOT_ALLOWED', `${place} is outside the card's regions`);
  }
  const mcc = req.merchant.mcc;
  if (program.blockedMccs.includes(mcc) || card.controls.blockedMccs.includes(mcc)) {
    return decline('MCC_BLOCKED', `merchant category ${mcc} is blocked`);
  }
  if (card.controls.allowedMccs.length > 0 && !card.controls.allowedMccs.includes(mcc)) {
    return decline('MCC_BLOCKED', `merchant category ${mcc} is not among the card's allowed categories`);
  }
  const max = card.controls.maxAuthorizations;
  if (max !== null && card.approvals >= max) {
    return decline('MAX_AUTHORIZATIONS_REACHED', `the card allows ${max} authorization(s)`);
  }
  if (!Number.isSafeInteger(req.amount) || req.amount <= 0) {
    return decline('EXCEEDS_SPENDING_LIMIT', 'the amount must be a positive integer of minor units');
  }
  const clock: WindowClock = {
    nowMs: req.atMs,
    timeZone: program.timeZone,
    weekStartsOn: program.weekStartsOn,
  };
  for (const limit of card.controls.spendingLimits) {
    if (limit.interval === 'per_authorization') {
      if (req.amount > limit.amount) {
        return decline(
          'EXCEEDS_PER_AUTHORIZATION_LIMIT',
          `${req.amount} exceeds the per-authorization limit of ${limit.amount}`,
        );
      }
      continue;
    }
    const spent = spentIn(usageIn(ledger, limit.interval, clock));
    if (spent + req.amount > limit.amount) {
      return decline(
        'EXCEEDS_SPENDING_LIMIT',
        `${limit.interval} spend ${spent} + ${req.amount} would exceed ${limit.amount}`,
      );
    }
  }
  return { approved: true };
}

export interface RequestOutcome {
  decision: AuthorizationDecision;
  /** The ledger after the decision (an approval holds the amount; a decline is recorded). */
  next: { ledger: Ledger; entry: LedgerEntry };
}

/**
 * An authorization request: the decision and the card's books after it. With `answersPartial` (the
 * caller answers the partner with `decision.approvedAmount`), a request the partner lets us approve
 * in part (`partialApproval`) that only a limit declines is approved for what the limits leave, if
 * that covers its cash back and is more than nothing; the hold is what was approved.
 */
export function decideRequest(
  card: CardForDecision,
  program: ProgramForDecision,
  ledger: Ledger,
  ev: {
    transactionId: string;
    amount: number;
    currency: string;
    merchant: Merchant;
    occurredAtMs: number;
    partialApproval?: boolean;
    cashbackAmount?: number;
  },
  nowMs: number,
  opts: { answersPartial?: boolean } = {},
): RequestOutcome {
  const req = { amount: ev.amount, currency: ev.currency, merchant: ev.merchant, atMs: nowMs };
  let decision = decideAuthorization(card, program, ledger, req);
  const partial = opts.answersPartial === true && ev.partialApproval === true;
  if (!decision.approved && partial && PARTIAL_CODES.includes(decision.declineCode)) {
    const room = partialApprovalRoom(card, program, ledger, nowMs);
    const floor = Math.max(1, ev.cashbackAmount ?? 0);
    if (Number.isSafeInteger(room) && room >= floor && room < ev.amount) {
      // Checked again at the smaller amount: every rule, not only the limit that declined.
      if (decideAuthorization(card, program, ledger, { ...req, amount: room }).approved)
        decision = { approved: true, approvedAmount: room };
    }
  }
  const approvedAmount = decision.approved ? (decision.approvedAmount ?? ev.amount) : 0;
  const next = upsert(ledger, ev.transactionId, ev.occurredAtMs, ev.currency, (e) =>
    decision.approved
      ? ops.authorize(e, approvedAmount, ev.merchant)
      : ops.decline(e, decision.declineCode, ev.merchant),
  );
  return { decision, next };
}

/**
 * An incremental authorization (hotels, fuel): decided like a request for the extra amount, on
 * an authorization that is still holding; the card's authorization count does not change.
 */
export function decideIncrement(
  card: CardForDecision,
  program: ProgramForDecision,
  ledger: Ledger,
  ev: { transactionId: string; amount: number; occurredAtMs: number },
  nowMs: number,
): RequestOutcome {
  const entry = findEntry(ledger, ev.transactionId);
  if (!entry || entry.authorized === 0 || heldOf(entry) === 0) {
    return {
      decision: decline('CARD_NOT_ACTIVE', 'no authorization of this transaction is holding'),
      next: entry
        ? { ledger, entry }
        : upsert(ledger, ev.transactionId, ev.occurredAtMs, card.currency, (e) => e),
    };
  }
  const decision = decideAuthorization(
    { ...card, currency: entry.currency, controls: { ...card.controls, maxAuthorizations: null } },
    program,
    ledger,
    {
      amount: ev.amount,
      currency: entry.currency,
      merchant: (entry.merchant as Merchant | null) ?? { mcc: '0000', country: '' },
      atMs: nowMs,
    },
  );
  if (!decision.approved) return { decision, next: { ledger, entry } };
  return {
    decision,
    next: upsert(ledger, ev.transactionId, ev.occurredAtMs, entry.currency, (e) =>
      ops.increment(e, ev.amount),
    ),
  };
}
