/**
 * The partners this platform talks to, by name: built here, once, for the API and the worker alike
 * (each passes what the adapters need). The one module outside `src/partners/<name>` that knows
 * which partners exist; everything else looks them up by the name a subscription, a card or the
 * program's policy carries (`getPartner` / `hasPartner` in adapter.ts).
 */
import type { Knex } from 'knex';
import type { Vault } from '../vault/vault';
import type { PartnerAdapter, PartnerRegistry } from './adapter';
import { createLithicAdapter } from './lithic';
import { SandboxPartner } from './sandbox/adapter';
import { SANDBOX } from './sandbox/events';
import { createStripeAdapter } from './stripe';

export interface PartnerDeps {
  knex: Knex;
  vault: Vault;
  /** The platform's own base URL (resolved per call: tests listen late): where the sandbox is served. */
  publicUrl: () => string;
  /** What the sandbox derives test card numbers from (absent: this process creates no cards). */
  sandboxSecret?: string;
}

/** Where a program issues new cards until its policy names another partner. */
export const DEFAULT_PARTNER = SANDBOX;

export function createPartnerRegistry(deps: PartnerDeps): PartnerRegistry {
  const adapters: PartnerAdapter[] = [
    new SandboxPartner(deps.knex, deps.sandboxSecret ?? null, { vault: deps.vault, baseUrl: deps.publicUrl }),
    // Real partners: each reached with the credentials of the tenant's subscription (partners.md §5).
    createStripeAdapter(),
    createLithicAdapter(),
  ];
  return Object.freeze(Object.fromEntries(adapters.map((a) => [a.name, a])));
}

export const partnerNames = (registry: PartnerRegistry): string[] => Object.keys(registry);

/** The adapters every new tenant gets a subscription with (partners the platform provisions itself). */
export const provisionedPartners = (registry: PartnerRegistry): PartnerAdapter[] =>
  Object.values(registry).filter((a) => a.provision);
