import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { luhnCheckDigit } from '../../domain/luhn';
import type { CreatePartnerCardInput, CreatedPartnerCard, PartnerAdapter, PartnerCardStatus } from '../types';

/** Test BIN of the sandbox partner (a Visa test range). */
export const SANDBOX_BIN = '400000';

/**
 * The built-in partner simulator. Its books live in the `sandbox` schema. It never stores a card
 * number: numbers are derived from a secret and the card's identity (so a retried create returns
 * the same number), and only an HMAC of the number and its last four digits are kept.
 */
export class SandboxPartner implements PartnerAdapter {
  readonly name = 'sandbox';
  private readonly secret: Buffer;

  constructor(
    private readonly knex: Knex,
    secret: string,
  ) {
    this.secret = crypto.createHash('sha256').update(`vcn-sandbox-partner:${secret}`).digest();
  }

  private derive(label: string, programId: string, ref: string): Buffer {
    return crypto.createHmac('sha256', this.secret).update(`${label}\u0000${programId}\u0000${ref}`).digest();
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
    return crypto.createHmac('sha256', this.secret).update(`pan-index\u0000${number}`).digest('hex');
  }

  /** The partner id the sandbox gives (or gave) the card with this platform reference. */
  partnerCardIdFor(programId: string, platformCardRef: string): string {
    return `sbc_${this.derive('id', programId, platformCardRef).toString('hex').slice(0, 24)}`;
  }

  async createCard(input: CreatePartnerCardInput): Promise<CreatedPartnerCard> {
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
    return { partnerCardId: row.id, number, cvc, expMonth: row.expMonth, expYear: row.expYear };
  }

  async updateCardStatus(input: {
    programId: string;
    partnerCardId: string;
    status: PartnerCardStatus;
  }): Promise<void> {
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
}
