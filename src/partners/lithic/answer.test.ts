import { DECLINE_CODES } from '../../domain/authorization';
import type { CanonicalEvent } from '../../domain/events';
import { formatLithicAnswer, lithicResultFor } from './answer';

type Request = Extract<CanonicalEvent, { kind: 'authorization.request' }>;
const request = (over: Partial<Request> = {}): Request => ({
  kind: 'authorization.request',
  eventId: 'asa:tok',
  partner: 'lithic',
  partnerCardId: 'card',
  transactionId: 'tok',
  amount: 5_000,
  currency: 'USD',
  merchant: { mcc: '5812', country: 'US' },
  occurredAtMs: 0,
  ...over,
});

describe('Lithic ASA answer', () => {
  it('echoes the token with APPROVED', () => {
    expect(formatLithicAnswer({ approved: true, approvedAmount: 5_000 }, request())).toEqual({
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: { token: 'tok', result: 'APPROVED' },
    });
  });

  it('maps every platform decline code to a documented Lithic result (partners.md §5.3)', () => {
    const table: Record<(typeof DECLINE_CODES)[number], string> = {
      EXCEEDS_PER_AUTHORIZATION_LIMIT: 'VELOCITY_EXCEEDED',
      EXCEEDS_SPENDING_LIMIT: 'VELOCITY_EXCEEDED',
      EXCEEDS_USER_WEEKLY_LIMIT: 'VELOCITY_EXCEEDED',
      MAX_AUTHORIZATIONS_REACHED: 'VELOCITY_EXCEEDED',
      MCC_BLOCKED: 'UNAUTHORIZED_MERCHANT',
      REGION_NOT_ALLOWED: 'UNAUTHORIZED_MERCHANT',
      CURRENCY_MISMATCH: 'UNAUTHORIZED_MERCHANT',
      CARD_NOT_ACTIVE: 'CARD_PAUSED',
      CARD_EXPIRED: 'CARD_PAUSED',
      STAND_IN: 'INSUFFICIENT_FUNDS',
    };
    for (const code of DECLINE_CODES) {
      expect([code, lithicResultFor(code)]).toEqual([code, table[code]]);
      expect(formatLithicAnswer({ approved: false, declineCode: code }, request()).body).toEqual({
        token: 'tok',
        result: table[code],
      });
    }
  });

  it('sends approved_amount for a partial approval only where the terminal takes one', () => {
    const partial = { approved: true, approvedAmount: 3_000 };
    expect(formatLithicAnswer(partial, request({ partialApproval: true })).body).toEqual({
      token: 'tok',
      result: 'APPROVED',
      approved_amount: 3_000,
    });
    expect(formatLithicAnswer(partial, request()).body).toEqual({
      token: 'tok',
      result: 'VELOCITY_EXCEEDED',
    });
  });
});
