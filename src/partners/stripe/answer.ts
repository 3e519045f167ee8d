import Stripe from 'stripe';
import type { CanonicalEvent } from '../../domain/events';
import type { AuthorizationAnswer, FormattedAnswer, PartnerCredentials } from '../adapter';

/** The body Stripe reads from our answer to `issuing_authorization.request` (docs: real-time authorizations). */
export interface StripeAuthorizationAnswer {
  approved: boolean;
  /** A partial approval: honoured only where the request's `is_amount_controllable`. */
  amount?: number;
  metadata?: Record<string, string>;
}

/** Our decline code, as the answer's metadata carries it (Stripe keeps it on the authorization). */
export const DECLINE_CODE_METADATA = 'vcn_decline_code';

/**
 * The synchronous answer: HTTP 200, `Stripe-Version` (required: the body must match the version
 * named; the subscription's, else the SDK's pin) and `{approved, amount?, metadata?}`. An approval
 * of less than was asked carries `amount` only where Stripe lets us choose it; where it does not,
 * the approval is not Stripe's to make smaller, so the answer is a decline (the card's books follow
 * Stripe's `issuing_authorization.created`).
 */
export function formatStripeAnswer(
  answer: AuthorizationAnswer,
  context: {
    event: Extract<CanonicalEvent, { kind: 'authorization.request' | 'authorization.increment' }>;
    credentials: PartnerCredentials | null;
  },
): FormattedAnswer {
  const headers = {
    'Stripe-Version': context.credentials?.stripeVersion ?? Stripe.API_VERSION,
    'Content-Type': 'application/json',
  };
  const asked = context.event.amount;
  const decline = (code: string): FormattedAnswer => ({
    status: 200,
    headers,
    body: {
      approved: false,
      metadata: { [DECLINE_CODE_METADATA]: code },
    } satisfies StripeAuthorizationAnswer,
  });
  if (!answer.approved) return decline(answer.declineCode ?? 'DECLINED');
  const approved = answer.approvedAmount ?? asked;
  if (approved >= asked)
    return { status: 200, headers, body: { approved: true } satisfies StripeAuthorizationAnswer };
  const controllable =
    context.event.kind === 'authorization.request' && context.event.partialApproval === true;
  if (!controllable || approved <= 0) return decline('PARTIAL_APPROVAL_NOT_ALLOWED');
  return {
    status: 200,
    headers,
    body: { approved: true, amount: approved } satisfies StripeAuthorizationAnswer,
  };
}
