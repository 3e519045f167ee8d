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
