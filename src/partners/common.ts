/**
 * What the real partners' adapters share and no partner names: configuration errors, the order
 * secrets are tried in, the per-subscription SDK client cache, and the merchant's region.
 */
import crypto from 'node:crypto';
import type { PartnerCredentials, SubscriptionSecrets } from './adapter';

/**
 * A partner connection that cannot be used as configured (no API key, a bad base URL, a card
 * without what the partner requires): retrying the same call does not help, so an activity should
 * fail it at once (`nonRetryable`) and let an operator fix the subscription or the input.
 */
export class PartnerConfigError extends Error {
  readonly nonRetryable = true;
  constructor(message: string) {
    super(message);
    this.name = 'PartnerConfigError';
  }
}

/** A subscription's secrets in the order a delivery is checked against them. */
export function candidateSecrets(secrets: SubscriptionSecrets): Array<[keyof SubscriptionSecrets, string]> {
  const out: Array<[keyof SubscriptionSecrets, string]> = [['current', secrets.current]];
  if (secrets.previous) out.push(['previous', secrets.previous]);
  // The real-time authorization endpoint's own secret (Lithic ASA; Stripe where it has one).
  if (secrets.authorization) out.push(['authorization', secrets.authorization]);
  if (secrets.previousAuthorization) out.push(['previousAuthorization', secrets.previousAuthorization]);
  return out;
}

/**
 * One SDK client per subscription, kept while its key and URL (and version) stay the same: a
 * rotated key replaces it. The least recently used goes when the cache is full.
 */
export class ClientCache<T> {
  private readonly clients = new Map<string, { fingerprint: string; client: T }>();

  constructor(
    private readonly partner: string,
    private readonly make: (credentials: PartnerCredentials & { apiKey: string }) => T,
    private readonly max = 256,
  ) {}

  get(credentials: PartnerCredentials): T {
    const { apiKey } = credentials;
    if (!apiKey)
      throw new PartnerConfigError(
        `subscription ${credentials.subscriptionId} has no ${this.partner} API key`,
      );
    const fingerprint = crypto
      .createHash('sha256')
      .update(JSON.stringify([apiKey, credentials.apiBaseUrl ?? null, credentials.stripeVersion ?? null]))
      .digest('hex');
    const id = credentials.subscriptionId;
    const cached = this.clients.get(id);
    this.clients.delete(id);
    const client =
      cached?.fingerprint === fingerprint ? cached.client : this.make({ ...credentials, apiKey });
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

/** An unknown merchant country: ISO 3166's user-assigned "ZZ" (no region rule admits it). */
export const UNKNOWN_COUNTRY = 'ZZ';

/** The ISO 3166-2 region of a merchant (`US-CA`) from its alpha-2 country and state, where both are known. */
export function merchantRegion(country: string, state: string | null | undefined): { region?: string } {
  const s = state?.trim().toUpperCase();
  return s && /^[A-Z0-9]{1,3}$/.test(s) && country !== UNKNOWN_COUNTRY ? { region: `${country}-${s}` } : {};
}
