import Stripe from 'stripe';
import type { PartnerCredentials } from '../adapter';
import { ClientCache, PartnerConfigError } from '../common';

export const STRIPE_API_BASE_URL = 'https://api.stripe.com';

/** The SDK options for a subscription: host, port and protocol from its `apiBaseUrl`. */
export function stripeClientOptions(credentials: PartnerCredentials): Stripe.StripeConfig {
  const url = new URL(credentials.apiBaseUrl ?? STRIPE_API_BASE_URL);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new PartnerConfigError(`apiBaseUrl must be http(s), not ${url.protocol}`);
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    apiVersion: (credentials.stripeVersion ?? Stripe.API_VERSION) as Stripe.LatestApiVersion,
    host: url.hostname,
    port: url.port || (protocol === 'https' ? 443 : 80),
    protocol,
    maxNetworkRetries: 2,
    timeout: 10_000,
    telemetry: false,
  };
}

/** The Stripe SDK clients, one per subscription. */
export class StripeClients extends ClientCache<Stripe> {
  constructor(max?: number) {
    super('Stripe', (credentials) => new Stripe(credentials.apiKey, stripeClientOptions(credentials)), max);
  }
}
