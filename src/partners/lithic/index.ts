/**
 * Lithic behind the partner interface, through the official `lithic` SDK (partners.md §3, §5):
 * Standard Webhooks verification, Auth Stream Access requests and events normalized per §5.3,
 * ASA answered in Lithic's shape, cards created with the Idempotency-Key header, state changes,
 * and the listings reconciliation reads.
 */
import type { PartnerAdapter } from '../adapter';
import { formatLithicAnswer } from './answer';
import { LITHIC, LITHIC_EVENT_TYPES, normalizeLithic } from './normalize';
import {
  createLithicCard,
  LithicClients,
  listLithicCards,
  listLithicTransactions,
  updateLithicCardStatus,
} from './outbound';
import { verifyLithic } from './verify';

export { LITHIC_EVENT_TYPES } from './normalize';

export interface LithicAdapter extends PartnerAdapter {
  /** Drops a subscription's cached SDK client (after its key was rotated or it was disabled). */
  forgetClient(subscriptionId: string): void;
}

export function createLithicAdapter(opts: { clients?: LithicClients } = {}): LithicAdapter {
  const clients = opts.clients ?? new LithicClients();
  return {
    name: LITHIC,
    // Lithic's recommended ASA deadline (it declines at 6 s; partners.md §3.2).
    answerDeadlineMs: 3_000,
    eventTypes: LITHIC_EVENT_TYPES,
    verify: verifyLithic,
    normalize: normalizeLithic,
    formatAnswer: (answer, context) => formatLithicAnswer(answer, context.event),
    createCard: async (credentials, input) => createLithicCard(clients.get(credentials), input),
    updateCardStatus: async (credentials, input) => updateLithicCardStatus(clients.get(credentials), input),
    listCards: async (credentials, input) => listLithicCards(clients.get(credentials), input),
    listTransactions: async (credentials, input) => listLithicTransactions(clients.get(credentials), input),
    forgetClient: (subscriptionId) => clients.forget(subscriptionId),
  };
}
