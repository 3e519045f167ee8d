import type { CanonicalEvent } from '../../domain/events';
import type { AuthorizationAnswer, FormattedAnswer } from '../adapter';

/** Auth Stream Access's answer body (docs.lithic.com, ASA): anything but APPROVED declines. */
export interface LithicAsaAnswer {
  token: string;
  result: string;
  /** A partial approval (Lithic honours it where the terminal is `partial_approval_capable`). */
  approved_amount?: number;
}

/** Our decline codes as Lithic's documented ASA results (partners.md §5.3). */
export function lithicResultFor(declineCode: string | null | undefined): string {
  const code = declineCode ?? '';
  if (/^EXCEEDS_.*_LIMIT$/.test(code) || code === 'MAX_AUTHORIZATIONS_REACHED') return 'VELOCITY_EXCEEDED';
  if (code === 'MCC_BLOCKED' || code === 'REGION_NOT_ALLOWED' || code === 'CURRENCY_MISMATCH')
    return 'UNAUTHORIZED_MERCHANT';
  if (code === 'CARD_NOT_ACTIVE' || code === 'CARD_EXPIRED') return 'CARD_PAUSED';
  // STAND_IN (the card did not decide in time), and anything else: a documented, neutral decline.
  return 'INSUFFICIENT_FUNDS';
}

/**
 * The ASA answer: 200 `{token, result, approved_amount?}`, `token` echoing the request's. An
 * approval of less than was asked carries `approved_amount` where the terminal takes one; where it
 * does not, the approval cannot be made smaller, so the answer is a decline.
 */
export function formatLithicAnswer(
  answer: AuthorizationAnswer,
  event: Extract<CanonicalEvent, { kind: 'authorization.request' | 'authorization.increment' }>,
): FormattedAnswer {
  const token = event.transactionId;
  const reply = (body: LithicAsaAnswer): FormattedAnswer => ({
    status: 200,
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  if (!answer.approved) return reply({ token, result: lithicResultFor(answer.declineCode) });
  const approved = answer.approvedAmount ?? event.amount;
  if (approved >= event.amount) return reply({ token, result: 'APPROVED' });
  const partial = event.kind === 'authorization.request' && event.partialApproval === true;
  if (!partial || approved <= 0) return reply({ token, result: lithicResultFor('EXCEEDS_SPENDING_LIMIT') });
  return reply({ token, result: 'APPROVED', approved_amount: approved });
}
