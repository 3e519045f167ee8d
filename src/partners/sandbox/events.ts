/** The sandbox partner's name: its subscriptions, cards and events carry it. */
export const SANDBOX = 'sandbox';

/** Event types the sandbox partner delivers (api.md); a new subscription receives all of them. */
export const SANDBOX_EVENT_TYPES = [
  'authorization.request',
  'authorization.advice',
  'authorization.incremented',
  'authorization.reversed',
  'authorization.expired',
  'transaction.cleared',
  'transaction.refunded',
  'card.updated',
] as const;
