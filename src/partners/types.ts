/**
 * The partner-adapter interface: one module per partner (sandbox now; Stripe Issuing and Lithic
 * next). Adapters never log or return a card number except from createCard, whose caller puts it
 * straight into the vault.
 */
export type PartnerCardStatus = 'active' | 'frozen' | 'canceled';

export interface CreatePartnerCardInput {
  /** The platform tenant (the partner's program/account). */
  programId: string;
  /** The platform's card id; the partner's idempotency key for creation. */
  platformCardRef: string;
  expiresAt: Date;
  currency: string;
}

export interface CreatedPartnerCard {
  partnerCardId: string;
  number: string;
  cvc: string;
  expMonth: number;
  expYear: number;
}

export interface PartnerAdapter {
  readonly name: string;
  /** Idempotent per (programId, platformCardRef): a retry returns the same card. */
  createCard(input: CreatePartnerCardInput): Promise<CreatedPartnerCard>;
  updateCardStatus(input: {
    programId: string;
    partnerCardId: string;
    status: PartnerCardStatus;
  }): Promise<void>;
}

export type PartnerRegistry = Record<string, PartnerAdapter>;

export function getPartner(registry: PartnerRegistry, name: string): PartnerAdapter {
  const adapter = registry[name];
  if (!adapter) throw new Error(`no adapter for partner ${name}`);
  return adapter;
}

/** A card as the partner's listing reports it. */
export interface PartnerCardRecord {
  partnerCardId: string;
  status: PartnerCardStatus;
  updatedAt: string;
}

/** One record of the partner's transaction listing (an authorization, clearing, reversal, refund or expiry). */
export interface PartnerTransactionRecord {
  /** The partner's id of this record. */
  recordId: string;
  partnerCardId: string;
  /** The partner's id of the transaction the record belongs to. */
  partnerTransactionId: string;
  type: 'authorization' | 'clearing' | 'reversal' | 'refund' | 'expiry';
  amount: number;
  currency: string;
  /** For authorizations: whether the partner approved it. */
  approved: boolean | null;
  /**
   * The id of the webhook event the partner sent for this record (null: it sent none). A fix that
   * reconciliation applies carries it, so the webhook arriving after all is a duplicate.
   */
  eventId: string | null;
  occurredAt: string;
}

export interface PartnerPage<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * The partner's view of its books for reconciliation, read page by page like its list endpoints.
 * `from`/`to` bound the records' time ([from, to)).
 */
export interface PartnerListing {
  readonly name: string;
  listCards(input: {
    programId: string;
    cursor: string | null;
    limit: number;
  }): Promise<PartnerPage<PartnerCardRecord>>;
  listTransactions(input: {
    programId: string;
    from: Date;
    to: Date;
    cursor: string | null;
    limit: number;
  }): Promise<PartnerPage<PartnerTransactionRecord>>;
}

export type PartnerListingRegistry = Record<string, PartnerListing>;
