import crypto from 'node:crypto';
import Stripe from 'stripe';
import type { PartnerCredentials } from '../adapter';
import { PartnerConfigError } from '../errors';

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

/**
 * One SDK client per subscription, kept while its key, URL and version stay the same: a rotated
 * key or a new base URL replaces it. The least recently used goes when the cache is full.
 */
export class StripeClients {
  private readonly clients = new Map<string, { fingerprint: string; client: Stripe }>();

  constructor(private readonly max = 256) {}

  get(credentials: PartnerCredentials): Stripe {
    if (!credentials.apiKey)
      throw new PartnerConfigError(`subscription ${credentials.subscriptionId} has no Stripe API key`);
    const fingerprint = crypto
      .createHash('sha256')
      .update(
        JSON.stringify([
          credentials.apiKey,
          credentials.apiBaseUrl ?? null,
          credentials.stripeVersion ?? null,
        ]),
      )
      .digest('hex');
    const id = credentials.subscriptionId;
    const cached = this.clients.get(id);
    this.clients.delete(id);
    const client =
      cached?.fingerprint === fingerprint
        ? cached.client
        : new Stripe(credentials.apiKey, stripeClientOptions(credentials));
    while (this.clients.size >= this.max) this.clients.delete(this.clients.keys().next().value!);
    this.clients.set(id, { fingerprint, client });
    return client;
  }

  /** Forgets a subscription's client (its key was rotated, or it was disabled). */
  forget(subscriptionId: string): void {
    this.clients.delete(subscriptionId);
  }

  get size(): number {
    return this.clients.size;
  }
}
