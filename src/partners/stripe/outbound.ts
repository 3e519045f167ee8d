/**
 * Calls to Stripe's Issuing API through the official SDK: cardholders and cards created with
 * deterministic idempotency keys (an activity retried by Temporal sends the same key, so Stripe
 * answers with the first result for 24 h), status changes, and the listings reconciliation reads.
 */
import type Stripe from 'stripe';
import { unlinkedRefundEntryId } from '../../domain/ledger';
import type {
  CreatePartnerCardInput,
  CreatedPartnerCard,
  PartnerCardRecord,
  PartnerCardStatus,
  PartnerPage,
  PartnerTransactionRecord,
} from '../adapter';
import { PartnerConfigError } from '../common';
import { stripeEventIds } from './ids';

export const stripeIdempotencyKeys = {
  cardholder: (userId: string): string => `vcn:cardholder:${userId}`,
  card: (platformCardRef: string): string => `vcn:card:${platformCardRef}`,
  status: (partnerCardId: string, changeKey: string): string => `vcn:status:${partnerCardId}:${changeKey}`,
} as const;

const STRIPE_STATUS = { active: 'active', frozen: 'inactive', canceled: 'canceled' } as const;
const PLATFORM_STATUS: Record<string, PartnerCardStatus> = {
  active: 'active',
  inactive: 'frozen',
  canceled: 'canceled',
};
/** Stripe's own page size limit. */
const MAX_PAGE = 100;

/** Stripe's cardholder names: at most 24 characters, printed on physical cards. */
const cardholderName = (name: string): string => name.trim().slice(0, 24) || 'Cardholder';

export async function createStripeCard(
  stripe: Stripe,
  input: CreatePartnerCardInput,
): Promise<CreatedPartnerCard> {
  const holder = input.holder;
  if (!holder) throw new PartnerConfigError('Stripe issues cards to a cardholder: the card has no holder');
  let cardholderId = holder.partnerCardholderId ?? null;
  if (!cardholderId) {
    const address = holder.billingAddress;
    if (!address)
      throw new PartnerConfigError(
        `Stripe needs a billing address for the cardholder of user ${holder.userId}`,
      );
    const cardholder = await stripe.issuing.cardholders.create(
      {
        type: 'individual',
        name: cardholderName(holder.name),
        ...(holder.email ? { email: holder.email } : {}),
        billing: {
          address: {
            line1: address.line1,
            ...(address.line2 ? { line2: address.line2 } : {}),
            city: address.city,
            ...(address.state ? { state: address.state } : {}),
            postal_code: address.postalCode,
            country: address.country,
          },
        },
        metadata: { vcn_user_id: holder.userId, vcn_tenant_id: input.programId },
      },
      { idempotencyKey: stripeIdempotencyKeys.cardholder(holder.userId) },
    );
    cardholderId = cardholder.id;
    await holder.keepCardholder?.(cardholderId);
  }
  const card = await stripe.issuing.cards.create(
    {
      cardholder: cardholderId,
      currency: input.currency.toLowerCase(),
      type: 'virtual',
      status: 'active',
      metadata: { vcn_card_id: input.platformCardRef, vcn_tenant_id: input.programId },
    },
    { idempotencyKey: stripeIdempotencyKeys.card(input.platformCardRef) },
  );
  // The number and CVC only come on a retrieve that expands them, for the vault alone.
  const full = await stripe.issuing.cards.retrieve(card.id, { expand: ['number', 'cvc'] });
  const number = full.number ? full.number : null;
  const cvc = full.cvc ? full.cvc : null;
  // A test key (or stripe-mock) reveals no number; a live card must have one to be usable.
  if (!number && full.livemode)
    throw new PartnerConfigError(`Stripe revealed no number for live card ${card.id}`);
  return {
    partnerCardId: card.id,
    number,
    cvc,
    last4: full.last4 ?? card.last4,
    expMonth: full.exp_month ?? card.exp_month,
    expYear: full.exp_year ?? card.exp_year,
    partnerCardholderId: cardholderId,
  };
}

export async function updateStripeCardStatus(
  stripe: Stripe,
  input: { partnerCardId: string; status: PartnerCardStatus; changeKey?: string; reason?: string },
): Promise<void> {
  const reason = input.reason === 'lost' || input.reason === 'stolen' ? input.reason : undefined;
  await stripe.issuing.cards.update(
    input.partnerCardId,
    {
      status: STRIPE_STATUS[input.status],
      ...(input.status === 'canceled' && reason ? { cancellation_reason: reason } : {}),
    },
    input.changeKey
      ? { idempotencyKey: stripeIdempotencyKeys.status(input.partnerCardId, input.changeKey) }
      : {},
  );
}

const idOf = (ref: string | { id: string } | null | undefined): string | null =>
  ref == null ? null : typeof ref === 'string' ? ref : ref.id;
const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

export async function listStripeCards(
  stripe: Stripe,
  input: { cursor: string | null; limit: number },
): Promise<PartnerPage<PartnerCardRecord>> {
  const page = await stripe.issuing.cards.list({
    limit: Math.max(1, Math.min(input.limit, MAX_PAGE)),
    ...(input.cursor ? { starting_after: input.cursor } : {}),
  });
  const data: PartnerCardRecord[] = [];
  for (const c of page.data) {
    const status = PLATFORM_STATUS[c.status];
    // Stripe's cards carry no update time: their creation time stands in.
    if (status) data.push({ partnerCardId: c.id, status, updatedAt: iso(c.created) });
  }
  const last = page.data[page.data.length - 1];
  return { data, nextCursor: page.has_more && last ? last.id : null };
}

/**
 * The records of one Stripe authorization, as the platform's books would have them:
 * - `authorization`: what was approved (the requests approved, or the amount held if Stripe raised
 *   it without one), or asked when declined;
 * - `reversal`: how far the amount fell while pending or reversed (one record: Stripe keeps no
 *   history of falls), named like the webhook of the last fall;
 * - `expiry`.
 * Stripe keeps no time for reversals and expiries: the authorization's time stands in.
 */
export function stripeAuthorizationRecords(a: Stripe.Issuing.Authorization): PartnerTransactionRecord[] {
  const common = {
    partnerCardId: a.card.id,
    partnerTransactionId: a.id,
    currency: a.currency.toUpperCase(),
    occurredAt: iso(a.created),
  };
  const approvedRequests = a.request_history.filter((r) => r.approved).reduce((s, r) => s + r.amount, 0);
  const last = a.request_history[a.request_history.length - 1];
  if (!a.approved)
    return [
      {
        ...common,
        recordId: a.id,
        type: 'authorization',
        amount: last?.amount ?? a.amount,
        approved: false,
        eventId: stripeEventIds.decision(a.id),
      },
    ];
  const authorized =
    a.status === 'pending' ? Math.max(approvedRequests, a.amount) : approvedRequests || a.amount;
  const records: PartnerTransactionRecord[] = [
    {
      ...common,
      recordId: a.id,
      type: 'authorization',
      amount: authorized,
      approved: true,
      eventId: stripeEventIds.decision(a.id),
    },
  ];
  if ((a.status === 'pending' || a.status === 'reversed') && authorized > a.amount)
    records.push({
      ...common,
      recordId: `${a.id}:reversal`,
      type: 'reversal',
      amount: authorized - a.amount,
      approved: null,
      eventId: stripeEventIds.reversal(a.id, a.amount),
    });
  if (a.status === 'expired')
    records.push({
      ...common,
      recordId: `${a.id}:expiry`,
      type: 'expiry',
      amount: 0,
      approved: null,
      eventId: stripeEventIds.expiry(a.id),
    });
  return records;
}

/** A capture or refund as a record; null for a transaction no rule applies (its webhook asks for review). */
export function stripeTransactionRecord(t: Stripe.Issuing.Transaction): PartnerTransactionRecord | null {
  const authorization = idOf(t.authorization);
  const common = {
    recordId: t.id,
    partnerCardId: idOf(t.card)!,
    currency: t.currency.toUpperCase(),
    approved: null,
    eventId: stripeEventIds.transaction(t.id),
    occurredAt: iso(t.created),
  };
  if (t.type === 'capture' && t.amount < 0)
    return { ...common, partnerTransactionId: authorization ?? t.id, type: 'clearing', amount: -t.amount };
  if (t.type === 'refund' && t.amount > 0)
    return {
      ...common,
      partnerTransactionId: authorization ?? unlinkedRefundEntryId(t.id),
      type: 'refund',
      amount: t.amount,
    };
  return null;
}

type ListingCursor = { phase: 'authorizations' | 'transactions'; after: string | null };
const encodeCursor = (c: ListingCursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeCursor(cursor: string | null): ListingCursor {
  if (!cursor) return { phase: 'authorizations', after: null };
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as ListingCursor;
    if (
      (c.phase === 'authorizations' || c.phase === 'transactions') &&
      (c.after === null || typeof c.after === 'string')
    )
      return c;
  } catch {
    // fall through
  }
  throw new Error('invalid Stripe listing cursor');
}

/**
 * The records whose time is in [from, to): the authorizations created in it (their approvals,
 * reversals and expiries), then the captures and refunds created in it, each list paged with
 * `starting_after`. The cursor says which list and where.
 */
export async function listStripeTransactions(
  stripe: Stripe,
  input: { from: Date; to: Date; cursor: string | null; limit: number },
): Promise<PartnerPage<PartnerTransactionRecord>> {
  const c = decodeCursor(input.cursor);
  const created = { gte: Math.ceil(input.from.getTime() / 1000), lt: Math.ceil(input.to.getTime() / 1000) };
  const paging = {
    created,
    limit: Math.max(1, Math.min(input.limit, MAX_PAGE)),
    ...(c.after ? { starting_after: c.after } : {}),
  };
  if (c.phase === 'authorizations') {
    const page = await stripe.issuing.authorizations.list(paging);
    const last = page.data[page.data.length - 1];
    return {
      data: page.data.flatMap(stripeAuthorizationRecords),
      nextCursor: encodeCursor(
        page.has_more && last
          ? { phase: 'authorizations', after: last.id }
          : { phase: 'transactions', after: null },
      ),
    };
  }
  const page = await stripe.issuing.transactions.list(paging);
  const last = page.data[page.data.length - 1];
  return {
    data: page.data.map(stripeTransactionRecord).filter((r): r is PartnerTransactionRecord => r !== null),
    nextCursor: page.has_more && last ? encodeCursor({ phase: 'transactions', after: last.id }) : null,
  };
}
