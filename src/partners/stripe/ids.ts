/**
 * The dedupe ids of the canonical events a Stripe delivery becomes. Money events are named after
 * the Stripe objects and amounts they describe, not after the `evt_…` that carried them, so that
 * reconciliation, which reads the objects (cards, authorizations, transactions) and never the
 * events, names its fixes with the same ids: a webhook arriving after reconciliation healed its
 * record is a duplicate. A redelivered event, or a later event restating the same fact (an
 * `issuing_authorization.updated` of an expired authorization), gets the same id too.
 *
 * Requests and increments keep the `evt_…` of the `issuing_authorization.request` that asked
 * (each request is its own event; reconciliation never heals one), and card status changes theirs.
 */
export const stripeEventIds = {
  /** The authorization's decision, from `issuing_authorization.created` (one per authorization). */
  decision: (authorizationId: string): string => `${authorizationId}:decision`,
  /** A fall of the authorization's amount to `amountAfter`. */
  reversal: (authorizationId: string, amountAfter: number): string =>
    `${authorizationId}:reversal:${amountAfter}`,
  /** A rise of the authorization's amount to `amountAfter` that Stripe decided. */
  adjustment: (authorizationId: string, amountAfter: number): string =>
    `${authorizationId}:adjustment:${amountAfter}`,
  expiry: (authorizationId: string): string => `${authorizationId}:expiry`,
  /** A capture or refund: one `issuing.transaction` (`ipi_…`) each. */
  transaction: (transactionId: string): string => transactionId,
} as const;
