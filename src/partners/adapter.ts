/**
 * The partner-adapter interface: one module per partner under `src/partners/<name>` (the sandbox,
 * Stripe Issuing, Lithic), each complete on both sides:
 *
 * - inbound: verify a delivery's signature with the subscription's secrets, normalize its body into
 *   canonical events, and format the synchronous answer to an authorization request;
 * - outbound: create a card, change its status, and list the partner's cards and transactions for
 *   reconciliation.
 *
 * The registry (`registry.ts`) maps a partner name to its adapter; nothing outside
 * `src/partners/<name>` names a partner. Adapters never log or return a card number except from
 * `createCard`, whose caller puts it straight into the vault.
 */
import type { CanonicalEvent } from '../domain/events';

export type PartnerCardStatus = 'active' | 'frozen' | 'canceled';

// ---- credentials ----------------------------------------------------------------------------------

/**
 * A tenant's connection to one partner, opened from its (vault-sealed) subscription: what the
 * adapter needs for outbound calls. The sandbox needs none of the optional fields.
 */
export interface PartnerCredentials {
  tenantId: string;
  subscriptionId: string;
  /** The partner's API key (Stripe `sk_…`/`rk_…`, Lithic key). */
  apiKey?: string;
  /** The partner's API base URL (tests: stripe-mock's or the Lithic fake's loopback URL). */
  apiBaseUrl?: string;
  /** Stripe only: the API version for outbound calls and the `Stripe-Version` answer header. */
  stripeVersion?: string;
}

/**
 * The secrets a delivery may be signed with: the subscription's current signing secret, the
 * previous one during its 24 h overlap after a rotation, and the partner's separate secret for
 * real-time authorization requests where it has one (Lithic ASA).
 */
export interface SubscriptionSecrets {
  current: string;
  previous?: string | null;
  authorization?: string | null;
  /** The previous authorization secret during its 24 h overlap after the partner rotated it. */
  previousAuthorization?: string | null;
}

// ---- inbound --------------------------------------------------------------------------------------

/** A delivery as stored: the exact bytes and headers received, and when they were stored. */
export interface InboundDelivery {
  /** Header names lower-cased. */
  headers: Record<string, string>;
  rawBody: Buffer;
  /** When the delivery was stored (epoch ms): signature tolerance counts to here, not to now. */
  receivedAtMs: number;
}

export type SignatureCheck =
  { ok: true; secretUsed: keyof SubscriptionSecrets } | { ok: false; reason: string };

export type NormalizeResult =
  | {
      ok: true;
      /** The partner's id of the delivery's event (the operator sees it; dedupe is per canonical event). */
      eventId: string;
      /** The partner's event type, as a subscription's `eventTypes` names it. */
      type: string;
      /**
       * The canonical events the delivery carries, each with its own dedupe `eventId`. Usually one;
       * a Lithic `card_transaction.updated` carries one per entry of its cumulative `events[]`, and
       * a delivery that moves no money (Stripe `…closed`) carries none (outcome `ignored`).
       */
      events: CanonicalEvent[];
      /**
       * A synchronous answer the adapter gives itself, with nothing for a card to decide (a Lithic
       * balance inquiry or credit authorization, `events` empty): the route sends it as it is.
       */
      reply?: FormattedAnswer;
    }
  | { ok: false; reason: 'unparseable'; eventId?: string; type?: string; message: string }
  | { ok: false; reason: 'unknown_type'; eventId: string; type: string };

/** The platform's decision on a synchronous authorization request, before a partner formats it. */
export interface AuthorizationAnswer {
  approved: boolean;
  /** The amount approved (minor units); less than requested is a partial approval. */
  approvedAmount?: number;
  declineCode?: string;
  /** This delivery got the decision taken for another delivery of the same request. */
  duplicate?: boolean;
}

/** What the webhook route sends back for a synchronous request, in the partner's own shape. */
export interface FormattedAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

// ---- outbound -------------------------------------------------------------------------------------

export interface CreatePartnerCardInput {
  /** The platform tenant (the partner's program/account). */
  programId: string;
  /** The platform's card id: the partner's idempotency key for creation. */
  platformCardRef: string;
  expiresAt: Date;
  currency: string;
  /** The card's holder, for partners that need a cardholder (Stripe). */
  holder?: {
    userId: string;
    name: string;
    email?: string | null;
    region: string;
    /** Stripe requires one on every cardholder (its card-present address checks use it). */
    billingAddress?: PartnerAddress;
    /** The partner's cardholder made for this user before (`CreatedPartnerCard.partnerCardholderId`). */
    partnerCardholderId?: string | null;
    /**
     * Called with a cardholder the partner just made, before the card is created under it: the
     * caller keeps it on the user, so a retried creation reuses it (and sends the card's create
     * with the very same body under its idempotency key).
     */
    keepCardholder?(partnerCardholderId: string): Promise<void>;
  };
}

export interface PartnerAddress {
  line1: string;
  line2?: string | null;
  city: string;
  /** ISO 3166-2 subdivision part (`CA` of `US-CA`) where the country has them. */
  state?: string | null;
  postalCode: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export interface CreatedPartnerCard {
  partnerCardId: string;
  /**
   * The full number, for the vault only; null when the partner does not reveal it to this program
   * (a Stripe test key, a Lithic program without PCI clearance): the card is issued with `last4`
   * and a reveal answers 409 CARD_NUMBER_UNAVAILABLE. Never invented.
   */
  number: string | null;
  cvc: string | null;
  last4: string;
  expMonth: number;
  expYear: number;
  /** The cardholder the partner filed the card under (Stripe): kept on the user and passed back next time. */
  partnerCardholderId?: string;
}

/** A card as the partner's listing reports it. */
export interface PartnerCardRecord {
  partnerCardId: string;
  status: PartnerCardStatus;
  updatedAt: string;
}

/** One record of the partner's transaction listing (an authorization, clearing, reversal, refund or expiry). */
export interface PartnerTransactionRecord {
  /** The partner's id of this record. */
  recordId: string;
  partnerCardId: string;
  /** The partner's id of the transaction the record belongs to. */
  partnerTransactionId: string;
  type: 'authorization' | 'clearing' | 'reversal' | 'refund' | 'expiry';
  amount: number;
  currency: string;
  /** For authorizations: whether the partner approved it. */
  approved: boolean | null;
  /**
   * The id of the canonical event the partner's webhook carries for this record (null: it sent
   * none). A fix that reconciliation applies carries it, so the webhook arriving after all is a
   * duplicate.
   */
  eventId: string | null;
  occurredAt: string;
}

export interface PartnerPage<T> {
  data: T[];
  nextCursor: string | null;
}

// ---- the adapter ----------------------------------------------------------------------------------

export interface PartnerAdapter {
  readonly name: string;
  /** The event types a new subscription receives (its default `eventTypes`). */
  readonly eventTypes: readonly string[];
  /**
   * How long the partner waits for the answer to an authorization request (ms; Stripe 2 s, Lithic
   * 3 s recommended): the program's own `authorizationTimeoutMs` is cut to it. Absent: the
   * program's alone.
   */
  readonly answerDeadlineMs?: number;
  /**
   * Set for a partner the platform provisions itself (the sandbox, which plays its partner inside
   * the platform): every new tenant gets a webhook subscription with it, and these are the fields
   * that subscription adds to the tenant's credentials (api.md "Local credentials").
   */
  readonly provision?: {
    credentials(subscription: { id: string; url: string; secret: string }): Record<string, string>;
    /** Which of those fields are secrets: shown once, never kept for an idempotent replay. */
    readonly secretFields: readonly string[];
  };

  /**
   * What the partner needs of a card's holder before it issues a card: Stripe files every card
   * under a cardholder, and a cardholder must have a billing address. Issuance refuses a user
   * without one (422 USER_BILLING_ADDRESS_REQUIRED) before calling the partner.
   */
  readonly holderRequirements?: { billingAddress: boolean };

  /** Checks a delivery's signature against the subscription's secrets. `checkTimestamp: false`: an operator's replay of a stored delivery. */
  verify(
    delivery: InboundDelivery,
    secrets: SubscriptionSecrets,
    opts: { checkTimestamp: boolean },
  ): SignatureCheck;
  /** Parses and normalizes a verified delivery. Pure: no I/O, no clock but `delivery.receivedAtMs`. */
  normalize(delivery: InboundDelivery): NormalizeResult;
  /** The synchronous answer to an authorization request the delivery carried, in the partner's shape. */
  formatAnswer(
    answer: AuthorizationAnswer,
    context: {
      event: Extract<CanonicalEvent, { kind: 'authorization.request' | 'authorization.increment' }>;
      deliveryId: string;
      delivery: InboundDelivery;
      credentials: PartnerCredentials | null;
    },
  ): FormattedAnswer;

  /** Idempotent per (programId, platformCardRef): a retry returns the same card. */
  createCard(credentials: PartnerCredentials, input: CreatePartnerCardInput): Promise<CreatedPartnerCard>;
  /** Sets a status the platform decided; idempotent (`changeKey` is unique per change, for partners that take idempotency keys). */
  updateCardStatus(
    credentials: PartnerCredentials,
    input: {
      programId: string;
      partnerCardId: string;
      status: PartnerCardStatus;
      changeKey?: string;
      reason?: string;
    },
  ): Promise<void>;
  listCards(
    credentials: PartnerCredentials,
    input: { programId: string; cursor: string | null; limit: number },
  ): Promise<PartnerPage<PartnerCardRecord>>;
  /** Records whose time is in [from, to). */
  listTransactions(
    credentials: PartnerCredentials,
    input: { programId: string; from: Date; to: Date; cursor: string | null; limit: number },
  ): Promise<PartnerPage<PartnerTransactionRecord>>;
}

export type PartnerRegistry = Readonly<Record<string, PartnerAdapter>>;

/** The adapter for a partner name (own properties only: `__proto__` or `constructor` is no partner). */
export function getPartner(registry: PartnerRegistry, name: string): PartnerAdapter {
  const adapter = Object.prototype.hasOwnProperty.call(registry, name) ? registry[name] : undefined;
  if (!adapter) throw new Error(`no adapter for partner ${name}`);
  return adapter;
}

export function hasPartner(registry: PartnerRegistry, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(registry, name);
}
