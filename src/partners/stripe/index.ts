/**
 * Stripe Issuing behind the partner interface, through the official `stripe` SDK (partners.md §2,
 * §5): webhooks verified with `constructEvent`, normalized per §5.3, real-time authorizations
 * answered in Stripe's shape, cards issued and changed with deterministic idempotency keys, and
 * the listings reconciliation reads.
 */
import type { PartnerAdapter } from '../adapter';
import { formatStripeAnswer } from './answer';
import { StripeClients } from './client';
import { normalizeStripe, STRIPE, STRIPE_EVENT_TYPES } from './normalize';
import {
  createStripeCard,
  listStripeCards,
  listStripeTransactions,
  updateStripeCardStatus,
} from './outbound';
import { verifyStripe } from './verify';

export { STRIPE_EVENT_TYPES } from './normalize';

export interface StripeAdapter extends PartnerAdapter {
  /** Drops a subscription's cached SDK client (after its key was rotated or it was disabled). */
  forgetClient(subscriptionId: string): void;
}

export function createStripeAdapter(opts: { clients?: StripeClients } = {}): StripeAdapter {
  const clients = opts.clients ?? new StripeClients();
  return {
    name: STRIPE,
    // Stripe's real-time authorization deadline (partners.md §2.2).
    answerDeadlineMs: 2_000,
    eventTypes: STRIPE_EVENT_TYPES,
    holderRequirements: { billingAddress: true },
    verify: verifyStripe,
    normalize: (delivery) => normalizeStripe(delivery.rawBody),
    formatAnswer: (answer, context) => formatStripeAnswer(answer, context),
    createCard: async (credentials, input) => createStripeCard(clients.get(credentials), input),
    updateCardStatus: async (credentials, input) => updateStripeCardStatus(clients.get(credentials), input),
    listCards: async (credentials, input) => listStripeCards(clients.get(credentials), input),
    listTransactions: async (credentials, input) => listStripeTransactions(clients.get(credentials), input),
    forgetClient: (subscriptionId) => clients.forget(subscriptionId),
  };
}
