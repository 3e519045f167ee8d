/**
 * Calls to Lithic's API through the official `lithic` SDK: cards created with the Idempotency-Key
 * header (Lithic takes it on card creation), state changes (absolute: a retry is harmless), and
 * the listings reconciliation reads, paged with cursors.
 */
import Lithic from 'lithic';
import type {
  CreatePartnerCardInput,
  CreatedPartnerCard,
  PartnerCardRecord,
  PartnerCardStatus,
  PartnerPage,
  PartnerTransactionRecord,
} from '../adapter';
import { ClientCache } from '../common';
import { lithicEffects, lithicEntryId, LithicTransaction } from './transactions';

export const LITHIC_API_BASE_URL = 'https://api.lithic.com';
export const lithicIdempotencyKey = (platformCardRef: string): string => `vcn:card:${platformCardRef}`;

const LITHIC_STATE = { active: 'OPEN', frozen: 'PAUSED', canceled: 'CLOSED' } as const;
const PLATFORM_STATUS: Record<string, PartnerCardStatus> = {
  OPEN: 'active',
  PAUSED: 'frozen',
  CLOSED: 'canceled',
};
const MAX_PAGE = 100;

/** The Lithic SDK clients, one per subscription. */
export class LithicClients extends ClientCache<Lithic> {
  constructor(max?: number) {
    super(
      'Lithic',
      (credentials) =>
        // webhookSecret null: the SDK would otherwise read LITHIC_WEBHOOK_SECRET from the environment.
        new Lithic({
          apiKey: credentials.apiKey,
          baseURL: credentials.apiBaseUrl ?? LITHIC_API_BASE_URL,
          maxRetries: 2,
          timeout: 10_000,
          webhookSecret: null,
        }),
      max,
    );
  }
}

const month = (s: string | undefined): number | null => {
  const n = Number(s);
  return Number.isInteger(n) && n >= 1 && n <= 12 ? n : null;
};
const year = (s: string | undefined): number | null => {
  const n = Number(s);
  return Number.isInteger(n) && n >= 2000 ? n : null;
};

export async function createLithicCard(
  lithic: Lithic,
  input: CreatePartnerCardInput,
): Promise<CreatedPartnerCard> {
  const created = await lithic.cards.create({
    type: 'VIRTUAL',
    memo: input.platformCardRef,
    state: 'OPEN',
    'Idempotency-Key': lithicIdempotencyKey(input.platformCardRef),
  });
  // The number comes on the create for PCI-cleared programs, else on a retrieve of such a program;
  // for any other program there is none, and none is invented.
  const card = created.pan ? created : await lithic.cards.retrieve(created.token);
  return {
    partnerCardId: created.token,
    number: card.pan ? card.pan : null,
    cvc: card.cvv ? card.cvv : null,
    last4: card.last_four ?? created.last_four,
    // Lithic omits the expiry for some programs: the platform's own then stands.
    expMonth: month(card.exp_month) ?? input.expiresAt.getUTCMonth() + 1,
    expYear: year(card.exp_year) ?? input.expiresAt.getUTCFullYear(),
  };
}

export async function updateLithicCardStatus(
  lithic: Lithic,
  input: { partnerCardId: string; status: PartnerCardStatus },
): Promise<void> {
  await lithic.cards.update(input.partnerCardId, { state: LITHIC_STATE[input.status] });
}

export async function listLithicCards(
  lithic: Lithic,
  input: { cursor: string | null; limit: number },
): Promise<PartnerPage<PartnerCardRecord>> {
  const page = await lithic.cards.list({
    page_size: Math.max(1, Math.min(input.limit, MAX_PAGE)),
    ...(input.cursor ? { starting_after: input.cursor } : {}),
  });
  const data: PartnerCardRecord[] = [];
  for (const c of page.data) {
    const status = PLATFORM_STATUS[c.state];
    // Lithic's cards carry no update time: their creation time stands in. Pending cards are none of ours yet.
    if (status) data.push({ partnerCardId: c.token, status, updatedAt: new Date(c.created).toISOString() });
  }
  const last = page.data[page.data.length - 1];
  return { data, nextCursor: page.has_more && last ? last.token : null };
}

/** One Lithic transaction's records, one per effect of its events (named like the webhook's). */
export function lithicTransactionRecords(raw: Lithic.Transaction): PartnerTransactionRecord[] {
  const parsed = LithicTransaction.safeParse(raw);
  if (!parsed.success) return [];
  const tx = parsed.data;
  const records: PartnerTransactionRecord[] = [];
  for (const fx of lithicEffects(tx)) {
    const common = {
      recordId: fx.eventId,
      partnerCardId: tx.card_token,
      partnerTransactionId: tx.token,
      eventId: fx.eventId,
      occurredAt: new Date(fx.occurredAtMs).toISOString(),
    };
    const currency = 'currency' in fx ? fx.currency : (tx.events[0]?.amounts.cardholder.currency ?? 'USD');
    switch (fx.kind) {
      case 'advice':
        records.push({
          ...common,
          type: 'authorization',
          amount: fx.amount,
          currency,
          approved: fx.approved,
        });
        break;
      case 'adjustment':
        records.push({ ...common, type: 'authorization', amount: fx.amount, currency, approved: true });
        break;
      case 'reversal':
        records.push({ ...common, type: 'reversal', amount: fx.amount, currency, approved: null });
        break;
      case 'expiry':
        records.push({ ...common, type: 'expiry', amount: 0, currency, approved: null });
        break;
      case 'clearing':
        records.push({ ...common, type: 'clearing', amount: fx.amount, currency, approved: null });
        break;
      case 'refund':
        records.push({
          ...common,
          partnerTransactionId: lithicEntryId(tx.token, fx.linked),
          type: 'refund',
          amount: fx.amount,
          currency,
          approved: null,
        });
        break;
      case 'review':
        break; // flagged for an operator; reconciliation compares no money for it
    }
  }
  return records;
}

/** The records of the transactions created in [from, to), paged with Lithic's cursor. */
export async function listLithicTransactions(
  lithic: Lithic,
  input: { from: Date; to: Date; cursor: string | null; limit: number },
): Promise<PartnerPage<PartnerTransactionRecord>> {
  const page = await lithic.transactions.list({
    begin: input.from.toISOString(),
    end: input.to.toISOString(),
    page_size: Math.max(1, Math.min(input.limit, MAX_PAGE)),
    ...(input.cursor ? { starting_after: input.cursor } : {}),
  });
  const last = page.data[page.data.length - 1];
  return {
    data: page.data.flatMap(lithicTransactionRecords),
    nextCursor: page.has_more && last ? last.token : null,
  };
}
