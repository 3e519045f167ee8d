/**
 * Partner subscriptions: a tenant's connection to one partner — the URL id its webhooks arrive
 * at, the event types it receives, its signing secrets (sealed with the vault key, with a 24 h
 * overlap after a rotation) and what outbound calls need (opened as `PartnerCredentials`).
 */
import type { Knex } from 'knex';
import { DomainError } from '../domain/errors';
import { newId, randomToken } from '../lib/ids';
import type { PartnerCredentials, SubscriptionSecrets } from '../partners/adapter';
import type { Vault } from '../vault/vault';

/** A subscription row as stored (camelCase). */
export interface SubscriptionRow {
  id: string;
  tenantId: string;
  partner: string;
  eventTypes: string[];
  status: 'active' | 'paused' | 'disabled';
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  authorizationSecretEncrypted?: string | null;
  previousAuthorizationSecretEncrypted?: string | null;
  previousAuthorizationSecretExpiresAt?: Date | null;
  apiKeyEncrypted?: string | null;
  apiKeyLast4?: string | null;
  apiBaseUrl?: string | null;
  stripeVersion?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** How long a rotated-out secret keeps verifying, so the partner can switch over. */
export const SECRET_OVERLAP_MS = 24 * 3600_000;

export const subscriptionSecretAad = (tenantId: string, subscriptionId: string): string =>
  `webhook-secret:${tenantId}:${subscriptionId}`;
const authorizationSecretAad = (tenantId: string, subscriptionId: string): string =>
  `authorization-secret:${tenantId}:${subscriptionId}`;
const apiKeyAad = (tenantId: string, subscriptionId: string): string =>
  `partner-api-key:${tenantId}:${subscriptionId}`;

/** Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(randomToken(24), 'base64url').toString('base64')}`;
}

/**
 * What a tenant gives for a real partner (partners.md §5.1): the secrets the partner made, and
 * what outbound calls need. Every field optional: the sandbox needs none.
 */
export interface PartnerConnection {
  signingSecret?: string;
  authorizationSigningSecret?: string;
  apiKey?: string;
  apiBaseUrl?: string;
  stripeVersion?: string;
}

/** The last four characters of an API key: what an operator recognises it by. */
const last4 = (key: string): string => key.slice(-4);

/** The sealed columns of a connection's secrets and key (only those given). */
function sealedConnection(
  vault: Vault,
  tenantId: string,
  id: string,
  c: Omit<PartnerConnection, 'signingSecret'>,
): Record<string, string> {
  return {
    ...(c.authorizationSigningSecret
      ? {
          authorizationSecretEncrypted: vault.sealString(
            c.authorizationSigningSecret,
            authorizationSecretAad(tenantId, id),
          ),
        }
      : {}),
    ...(c.apiKey
      ? { apiKeyEncrypted: vault.sealString(c.apiKey, apiKeyAad(tenantId, id)), apiKeyLast4: last4(c.apiKey) }
      : {}),
    ...(c.apiBaseUrl ? { apiBaseUrl: c.apiBaseUrl } : {}),
    ...(c.stripeVersion ? { stripeVersion: c.stripeVersion } : {}),
  };
}

/**
 * Creates a partner subscription. Its signing secret is the partner's (`signingSecret`) or, when
 * none is given, one generated here and returned once (`generated`); secrets and the API key are
 * kept sealed with the vault key, never in clear.
 */
export async function createSubscription(
  trx: Knex | Knex.Transaction,
  vault: Vault,
  tenantId: string,
  partner: string,
  eventTypes: readonly string[],
  connection: PartnerConnection = {},
): Promise<{ id: string; secret: string; generated: boolean }> {
  const id = newId('subscription');
  const { signingSecret, ...rest } = connection;
  const secret = signingSecret ?? newWebhookSecret();
  await trx('partner_subscriptions').insert({
    id,
    tenantId,
    partner,
    eventTypes: [...eventTypes],
    status: 'active',
    secretEncrypted: vault.sealString(secret, subscriptionSecretAad(tenantId, id)),
    ...sealedConnection(vault, tenantId, id, rest),
  });
  return { id, secret, generated: signingSecret === undefined };
}

/** Changes what outbound calls use (a new API key, base URL or Stripe version). */
export async function updateSubscriptionConnection(
  knex: Knex,
  vault: Vault,
  sub: Pick<SubscriptionRow, 'id' | 'tenantId' | 'partner'>,
  change: Pick<PartnerConnection, 'apiKey' | 'apiBaseUrl' | 'stripeVersion'>,
): Promise<void> {
  const columns = sealedConnection(vault, sub.tenantId, sub.id, change);
  if (Object.keys(columns).length === 0) return;
  await knex('partner_subscriptions')
    .where({ id: sub.id })
    .update({ ...columns, updatedAt: knex.fn.now() });
  forgetSubscription(sub.partner, sub.id);
}

/** Changes a subscription's event types or status. */
export async function updateSubscription(
  knex: Knex,
  sub: Pick<SubscriptionRow, 'id' | 'partner'>,
  change: { eventTypes?: string[]; status?: SubscriptionRow['status'] },
): Promise<void> {
  await knex('partner_subscriptions')
    .where({ id: sub.id })
    .update({ ...change, updatedAt: knex.fn.now() });
  forgetSubscription(sub.partner, sub.id);
}

/**
 * Rotates in a new signing secret — the partner's (`signingSecret`: it made a new one) or, when
 * none is given, one generated here (returned once) — and, if given, the partner's new real-time
 * authorization secret. Each old secret keeps verifying for SECRET_OVERLAP_MS.
 */
export async function rotateSubscriptionSecret(
  knex: Knex,
  vault: Vault,
  sub: Pick<SubscriptionRow, 'id' | 'tenantId' | 'partner' | 'secretEncrypted'> &
    Partial<Pick<SubscriptionRow, 'authorizationSecretEncrypted'>>,
  given: Pick<PartnerConnection, 'signingSecret' | 'authorizationSigningSecret'> = {},
): Promise<{ secret: string; generated: boolean }> {
  const overlapEnd = new Date(Date.now() + SECRET_OVERLAP_MS);
  const rotateSigning = given.signingSecret !== undefined || given.authorizationSigningSecret === undefined;
  const secret = given.signingSecret ?? newWebhookSecret();
  const authorization = given.authorizationSigningSecret;
  await knex('partner_subscriptions')
    .where({ id: sub.id })
    .update({
      ...(rotateSigning
        ? {
            previousSecretEncrypted: sub.secretEncrypted,
            previousSecretExpiresAt: overlapEnd,
            secretEncrypted: vault.sealString(secret, subscriptionSecretAad(sub.tenantId, sub.id)),
          }
        : {}),
      ...(authorization !== undefined
        ? {
            previousAuthorizationSecretEncrypted: sub.authorizationSecretEncrypted ?? null,
            previousAuthorizationSecretExpiresAt: sub.authorizationSecretEncrypted ? overlapEnd : null,
            authorizationSecretEncrypted: vault.sealString(
              authorization,
              authorizationSecretAad(sub.tenantId, sub.id),
            ),
          }
        : {}),
      updatedAt: knex.fn.now(),
    });
  forgetSubscription(sub.partner, sub.id);
  return { secret, generated: rotateSigning && given.signingSecret === undefined };
}

/** The secrets a delivery on this subscription may be signed with (the previous one while it overlaps). */
export function subscriptionSecrets(
  vault: Vault,
  sub: Pick<
    SubscriptionRow,
    'id' | 'tenantId' | 'secretEncrypted' | 'previousSecretEncrypted' | 'previousSecretExpiresAt'
  > &
    Partial<
      Pick<
        SubscriptionRow,
        | 'authorizationSecretEncrypted'
        | 'previousAuthorizationSecretEncrypted'
        | 'previousAuthorizationSecretExpiresAt'
      >
    >,
  nowMs = Date.now(),
): SubscriptionSecrets {
  const aad = subscriptionSecretAad(sub.tenantId, sub.id);
  const authAad = authorizationSecretAad(sub.tenantId, sub.id);
  const valid = (sealed: string | null | undefined, until: Date | null | undefined): sealed is string =>
    Boolean(sealed && until && new Date(until).getTime() > nowMs);
  return {
    current: vault.openString(sub.secretEncrypted, aad),
    previous: valid(sub.previousSecretEncrypted, sub.previousSecretExpiresAt)
      ? vault.openString(sub.previousSecretEncrypted, aad)
      : null,
    authorization: sub.authorizationSecretEncrypted
      ? vault.openString(sub.authorizationSecretEncrypted, authAad)
      : null,
    previousAuthorization: valid(
      sub.previousAuthorizationSecretEncrypted,
      sub.previousAuthorizationSecretExpiresAt,
    )
      ? vault.openString(sub.previousAuthorizationSecretEncrypted, authAad)
      : null,
  };
}

/** What the partner's adapter needs for outbound calls on this subscription. */
export function credentialsOf(
  vault: Vault,
  sub: Pick<SubscriptionRow, 'id' | 'tenantId'> &
    Partial<Pick<SubscriptionRow, 'apiKeyEncrypted' | 'apiBaseUrl' | 'stripeVersion'>>,
): PartnerCredentials {
  return {
    tenantId: sub.tenantId,
    subscriptionId: sub.id,
    ...(sub.apiKeyEncrypted
      ? { apiKey: vault.openString(sub.apiKeyEncrypted, apiKeyAad(sub.tenantId, sub.id)) }
      : {}),
    ...(sub.apiBaseUrl ? { apiBaseUrl: sub.apiBaseUrl } : {}),
    ...(sub.stripeVersion ? { stripeVersion: sub.stripeVersion } : {}),
  };
}

/**
 * The tenant's credentials with a partner, opened from its subscription with that partner (an
 * active one first, the oldest of them: the one made with the tenant). A tenant with no
 * subscription at all cannot call the partner.
 */
export async function openCredentials(
  db: Knex | Knex.Transaction,
  vault: Vault,
  tenantId: string,
  partner: string,
): Promise<PartnerCredentials> {
  const sub = await db('partner_subscriptions')
    .where({ tenantId, partner })
    .orderByRaw(`(status = 'active') DESC, created_at, id`)
    .first<SubscriptionRow | undefined>();
  if (!sub) throw new DomainError('PARTNER_UNAVAILABLE', `the tenant has no subscription with ${partner}`);
  return credentialsOf(vault, sub);
}

/**
 * A webhook subscription, read at most once a second per API process: it is on every delivery's
 * path (a round trip, and on a small host the socket writes are much of a request's cost). A change
 * made through this process's admin API (a pause, a rotated secret) is seen at once
 * (forgetSubscription); one made through another process within the second.
 */
const subscriptionCache = new Map<string, { at: number; row: SubscriptionRow | undefined }>();
const SUBSCRIPTION_CACHE_MS = 1_000;

export async function subscriptionOf(
  knex: Knex,
  partner: string,
  id: string,
): Promise<SubscriptionRow | undefined> {
  const key = `${partner}/${id}`;
  const hit = subscriptionCache.get(key);
  if (hit && Date.now() - hit.at < SUBSCRIPTION_CACHE_MS) return hit.row;
  const row: SubscriptionRow | undefined = await knex('partner_subscriptions').where({ id, partner }).first();
  if (subscriptionCache.size > 10_000) subscriptionCache.clear();
  subscriptionCache.set(key, { at: Date.now(), row });
  return row;
}

/** Drops a subscription's cached row after a change to it. */
export function forgetSubscription(partner: string, id: string): void {
  subscriptionCache.delete(`${partner}/${id}`);
}
