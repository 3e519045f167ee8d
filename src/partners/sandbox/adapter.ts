import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { luhnCheckDigit } from '../../domain/luhn';
import type { Vault } from '../../vault/vault';
import type {
  AuthorizationAnswer,
  CreatePartnerCardInput,
  CreatedPartnerCard,
  FormattedAnswer,
  InboundDelivery,
  PartnerAdapter,
  PartnerCardRecord,
  PartnerCardStatus,
  PartnerCredentials,
  PartnerPage,
  PartnerTransactionRecord,
  SignatureCheck,
  SubscriptionSecrets,
} from '../adapter';
import { SANDBOX, SANDBOX_EVENT_TYPES } from './events';
import { SandboxListing } from './listing';
import { normalizeSandboxDelivery } from './normalize';
import { verifyStandardWebhook } from './signature';

/** Test BIN of the sandbox partner (a Visa test range). */
export const SANDBOX_BIN = '400000';

/**
 * The built-in partner simulator, behind the same interface as a real partner. Its books live in
 * the `sandbox` schema; its deliveries are signed with Standard Webhooks; its listings are read
 * through its own HTTP API (`router.ts`), as a real partner's list endpoints are. It never stores a
 * card number: numbers are derived from a secret and the card's identity (so a retried create
 * returns the same number), and only an HMAC of the number and its last four digits are kept.
 * The sandbox needs no credentials beyond the program's id: its key is derived from the vault.
 */
export class SandboxPartner implements PartnerAdapter {
  readonly name = SANDBOX;
  readonly eventTypes = SANDBOX_EVENT_TYPES;
  /** Every new tenant gets a sandbox subscription; its URL and secret keep their contract names. */
  readonly provision = {
    credentials: (sub: { id: string; url: string; secret: string }) => ({
      sandboxWebhookUrl: sub.url,
      sandboxWebhookSecret: sub.secret,
    }),
    secretFields: ['sandboxWebhookSecret'],
  };
  private readonly secret: Buffer | null;
  private readonly listing: SandboxListing | null;

  constructor(
    private readonly knex: Knex,
    /** What card numbers are derived from (null: this process creates no cards, e.g. an API). */
    secret: string | null,
    /** Where the listings are read (the platform's own URL; absent: this process reads none). */
    opts: { vault?: Vault; baseUrl?: () => string } = {},
  ) {
    this.secret =
      secret === null ? null : crypto.createHash('sha256').update(`vcn-sandbox-partner:${secret}`).digest();
    this.listing = opts.vault && opts.baseUrl ? new SandboxListing(opts.vault, opts.baseUrl) : null;
  }

  // ---- inbound ------------------------------------------------------------------------------------

  verify(
    delivery: InboundDelivery,
    secrets: SubscriptionSecrets,
    opts: { checkTimestamp: boolean },
  ): SignatureCheck {
    return verifyStandardWebhook(secrets, delivery.headers, delivery.rawBody, opts);
  }

  normalize(delivery: InboundDelivery) {
    return normalizeSandboxDelivery(delivery.rawBody);
  }

  /** The sandbox's answer: `{ received, id, approved, approvedAmount?, declineCode?, duplicate? }` (api.md). */
  formatAnswer(answer: AuthorizationAnswer, context: { deliveryId: string }): FormattedAnswer {
    return { status: 200, body: { received: true, id: context.deliveryId, ...answer } };
  }

  // ---- outbound -----------------------------------------------------------------------------------

  private get cardSecret(): Buffer {
    if (!this.secret)
      throw new Error('this process has no sandbox card secret: cards are created by the worker');
    return this.secret;
  }

  private derive(label: string, programId: string, ref: string): Buffer {
    return crypto
      .createHmac('sha256', this.cardSecret)
      .update(`${label}\u0000${programId}\u0000${ref}`)
      .digest();
  }

  private numberFor(programId: string, ref: string): { number: string; cvc: string } {
    const digest = this.derive('pan', programId, ref);
    let body = '';
    for (let i = 0; body.length < 9; i++) body += String(digest[i]! % 10);
    const payload = SANDBOX_BIN + body;
    const number = payload + String(luhnCheckDigit(payload));
    const c = this.derive('cvc', programId, ref);
    const cvc = String(c.readUInt32BE(0) % 1000).padStart(3, '0');
    return { number, cvc };
  }

  panHmac(number: string): string {
    return crypto.createHmac('sha256', this.cardSecret).update(`pan-index\u0000${number}`).digest('hex');
  }

  /** The partner id the sandbox gives (or gave) the card with this platform reference. */
  partnerCardIdFor(programId: string, platformCardRef: string): string {
    return `sbc_${this.derive('id', programId, platformCardRef).toString('hex').slice(0, 24)}`;
  }

  async createCard(
    _credentials: PartnerCredentials,
    input: CreatePartnerCardInput,
  ): Promise<CreatedPartnerCard> {
    const { number, cvc } = this.numberFor(input.programId, input.platformCardRef);
    const expMonth = input.expiresAt.getUTCMonth() + 1;
    const expYear = input.expiresAt.getUTCFullYear();
    const id = this.partnerCardIdFor(input.programId, input.platformCardRef);
    await this.knex('sandbox.cards')
      .insert({
        id,
        programId: input.programId,
        platformCardRef: input.platformCardRef,
        panHmac: this.panHmac(number),
        last4: number.slice(-4),
        expMonth,
        expYear,
        status: 'active',
      })
      .onConflict(['programId', 'platformCardRef'])
      .ignore();
    const row = await this.knex('sandbox.cards')
      .where({ programId: input.programId, platformCardRef: input.platformCardRef })
      .first<{ id: string; expMonth: number; expYear: number }>();
    if (!row) throw new Error('sandbox card vanished after insert');
    return {
      partnerCardId: row.id,
      number,
      cvc,
      last4: number.slice(-4),
      expMonth: row.expMonth,
      expYear: row.expYear,
    };
  }

  async updateCardStatus(
    _credentials: PartnerCredentials,
    input: { programId: string; partnerCardId: string; status: PartnerCardStatus },
  ): Promise<void> {
    const updated = await this.knex('sandbox.cards')
      .where({ id: input.partnerCardId, programId: input.programId })
      .whereNot({ status: 'canceled' })
      .update({ status: input.status, updatedAt: this.knex.fn.now() });
    if (!updated) {
      const row = await this.knex('sandbox.cards')
        .where({ id: input.partnerCardId, programId: input.programId })
        .first();
      if (!row) throw new Error(`sandbox card ${input.partnerCardId} not found`);
      // Already canceled at the partner: canceling again is a no-op; anything else is refused.
      if (input.status !== 'canceled') throw new Error(`sandbox card ${input.partnerCardId} is canceled`);
    }
  }

  private get listings(): SandboxListing {
    if (!this.listing) throw new Error('this process reads no sandbox listings (no platform URL given)');
    return this.listing;
  }

  listCards(
    _credentials: PartnerCredentials,
    input: { programId: string; cursor: string | null; limit: number },
  ): Promise<PartnerPage<PartnerCardRecord>> {
    return this.listings.listCards(input);
  }

  listTransactions(
    _credentials: PartnerCredentials,
    input: { programId: string; from: Date; to: Date; cursor: string | null; limit: number },
  ): Promise<PartnerPage<PartnerTransactionRecord>> {
    return this.listings.listTransactions(input);
  }
}
