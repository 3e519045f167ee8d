import type { Knex } from 'knex';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { recordDecision } from '../admin-actions/decisions';
import { recordCardEvent } from '../cards/card-events';
import { moneyEventKey, moneyTransactionId, writeMoneyEvent } from '../cards/money-events';
import { reserveUserSpend, type ReserveUserSpendInput } from '../cards/user-spend';
import { Card, User } from '../db/models';
import { DomainError } from '../domain/errors';
import { reserveIssuance } from '../issuance/reserve';
import {
  getPartner,
  hasPartner,
  type CreatePartnerCardInput,
  type PartnerRegistry,
} from '../partners/adapter';
import { currentPolicy } from '../policies/current';
import { storeCardSecret } from '../vault/card-vault';
import type { Vault } from '../vault/vault';
import { claimParkedHandoffs } from '../webhooks/outbox';
import { recordOutcome } from '../webhooks/outcomes';
import { openCredentials } from '../webhooks/subscriptions';
import type {
  CreateAtPartnerInput,
  CreateAtPartnerResult,
  RecordActionDecisionInput,
  RecordMoneyEventInput,
  RecordMoneyEventResult,
  RecordOutcomeInput,
  RecordTransitionInput,
  ReserveIssuanceInput,
  ReserveIssuanceResult,
  SyncPartnerStatusInput,
  UpdateCardControlsInput,
  UpdateCardExpiryInput,
} from '../domain/card-records';

/**
 * A partner call that cannot succeed as configured (no subscription with the partner, no API key,
 * a holder the partner cannot take: `nonRetryable` errors) fails at once, not after every retry:
 * the card's workflow then decides what the failure means.
 */
async function partnerCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DomainError || (err as { nonRetryable?: unknown } | null)?.nonRetryable === true)
      throw ApplicationFailure.create({
        message: (err as Error).message,
        type: (err as Error).name,
        nonRetryable: true,
      });
    throw err;
  }
}

/** The card's holder as the partner is told of them, with the cardholder it made for them before. */
function holderOf(user: User, partner: string): NonNullable<CreatePartnerCardInput['holder']> {
  return {
    userId: user.id,
    name: user.name,
    email: user.email,
    region: user.region,
    ...(user.billingAddress ? { billingAddress: user.billingAddress } : {}),
    partnerCardholderId: user.partnerCardholders?.[partner] ?? null,
  };
}

/**
 * Keeps the partner's cardholder id on the user (the first one stays if two cards raced: Stripe
 * answers both with the same cardholder anyway, as they share its idempotency key).
 */
async function rememberCardholder(
  db: Knex,
  user: User,
  partner: string,
  cardholderId: string,
): Promise<void> {
  if (user.partnerCardholders?.[partner] === cardholderId) return;
  await db.raw(
    `UPDATE users SET partner_cardholders = jsonb_build_object(?::text, ?::text) || partner_cardholders,
            updated_at = now()
      WHERE tenant_id = ? AND id = ?`,
    [partner, cardholderId, user.tenantId, user.id],
  );
}

export interface CardActivityDeps {
  knex: Knex;
  partners: PartnerRegistry;
  vault: Vault;
}

/**
 * Activities of the card workflow. Each is idempotent, keyed by ids the workflow passes in, and
 * backed by unique constraints, so Temporal's retries never write twice. The writes are the table
 * modules' (one writer per table); these only carry the workflow's inputs to them.
 */
export function createCardActivities(deps: CardActivityDeps) {
  const { knex, partners, vault } = deps;

  return {
    /** Issuance checks and the pending card row (see `reserveIssuance`). */
    async reserveIssuance(input: ReserveIssuanceInput): Promise<ReserveIssuanceResult> {
      return reserveIssuance(knex, input, {
        needsBillingAddress: (name) =>
          hasPartner(partners, name) &&
          getPartner(partners, name).holderRequirements?.billingAddress === true,
      });
    },

    /** Creates the card at the partner and puts its number straight into the vault. Returns no number. */
    async createAtPartner(input: CreateAtPartnerInput): Promise<CreateAtPartnerResult> {
      const card = await Card.query(knex)
        .where({ tenantId: input.tenantId, id: input.cardId })
        .first()
        .throwIfNotFound();
      if (card.partnerCardId && card.last4 && card.expMonth && card.expYear) {
        return {
          partnerCardId: card.partnerCardId,
          last4: card.last4,
          expMonth: card.expMonth,
          expYear: card.expYear,
        };
      }
      Context.current().heartbeat();
      const holder = await User.query(knex).where({ tenantId: card.tenantId, id: card.userId }).first();
      // The tenant's own connection to the partner (its subscription's sealed key), opened for this call.
      const created = await partnerCall(async () =>
        getPartner(partners, card.partner).createCard(
          await openCredentials(knex, vault, card.tenantId, card.partner),
          {
            programId: card.tenantId,
            platformCardRef: card.id,
            expiresAt: card.expiresAt,
            currency: card.currency,
            ...(holder
              ? {
                  holder: {
                    ...holderOf(holder, card.partner),
                    keepCardholder: (id: string) => rememberCardholder(knex, holder, card.partner, id),
                  },
                }
              : {}),
          },
        ),
      );
      // The partner's cardholder (Stripe), made once per user: the user's next card goes under it.
      if (holder && created.partnerCardholderId)
        await rememberCardholder(knex, holder, card.partner, created.partnerCardholderId);
      await knex.transaction(async (trx) => {
        // A partner that does not reveal the number to this program: the card has its last four only.
        const vaultEntryId =
          created.number === null
            ? null
            : await storeCardSecret(trx, vault, card.tenantId, card.id, {
                number: created.number,
                cvc: created.cvc ?? '',
              });
        await trx('cards').where({ tenantId: card.tenantId, id: card.id }).update({
          partnerCardId: created.partnerCardId,
          vaultEntryId,
          last4: created.last4,
          expMonth: created.expMonth,
          expYear: created.expYear,
          updatedAt: knex.fn.now(),
        });
      });
      return {
        partnerCardId: created.partnerCardId,
        last4: created.last4,
        expMonth: created.expMonth,
        expYear: created.expYear,
      };
    },

    /** Writes one state transition: the card_events row and the cards snapshot, once per event key. */
    async recordTransition(input: RecordTransitionInput): Promise<void> {
      await knex.transaction(async (trx) => {
        if (!(await recordCardEvent(trx, input))) return;
        await trx('cards')
          .where({ tenantId: input.tenantId, id: input.cardId })
          .update({
            status: input.to,
            frozenBy: input.frozenBy,
            statusChangedAt: new Date(input.occurredAtMs),
            updatedAt: knex.fn.now(),
          });
      });
    },

    async updateCardControls(input: UpdateCardControlsInput): Promise<void> {
      await knex('cards')
        .where({ tenantId: input.tenantId, id: input.cardId })
        .update({ controls: JSON.stringify(input.controls), updatedAt: knex.fn.now() });
    },

    async updateCardExpiry(input: UpdateCardExpiryInput): Promise<void> {
      await knex('cards')
        .where({ tenantId: input.tenantId, id: input.cardId })
        .update({ expiresAt: new Date(input.expiresAtMs), updatedAt: knex.fn.now() });
    },

    /** One decision row per (action, decision): a retried activity writes it once. */
    async recordActionDecision(input: RecordActionDecisionInput): Promise<void> {
      await recordDecision(knex, input);
    },

    /**
     * Writes a partner money event once (transaction_events.event_key is unique), the transaction
     * snapshot the workflow computed, and the delivery's outcome (applied, or duplicate when the
     * event was already written). Returns whether this call wrote it: the workflow changes its
     * ledger only then, so no event is counted twice even past its in-memory dedupe window.
     */
    async recordMoneyEvent(input: RecordMoneyEventInput): Promise<RecordMoneyEventResult> {
      const { event: ev } = input;
      const eventKey = moneyEventKey(input);
      if (await writeMoneyEvent(knex, input)) return { applied: true, priorDecision: null };
      // Written before: by an earlier attempt of this very call (its commit key), or by another delivery.
      const prior = await knex('transaction_events').where({ tenantId: input.tenantId, eventKey }).first();
      const ours = prior?.data?.commitKey === input.commitKey;
      if (!ours && input.deliveryId) {
        await recordOutcome(knex, {
          tenantId: input.tenantId,
          deliveryId: input.deliveryId,
          outcome: 'duplicate',
          eventId: ev.eventId,
          eventType: ev.kind,
          cardId: input.cardId,
          details: {
            source: input.source,
            transactionId: moneyTransactionId(input),
            ...(input.replay ? { replay: true } : {}),
          },
        });
      }
      return { applied: ours, priorDecision: prior?.data?.decision ?? null };
    },

    /**
     * Authorizations the card decided without waiting for the database (see the authorize update):
     * the API wrote each one as it answered; this writes any it did not live to write.
     */
    async projectMoneyEvents(input: { items: RecordMoneyEventInput[] }): Promise<{ written: number }> {
      if (!input.items.length) return { written: 0 };
      // One look for what is on record already (the API's writes, nearly always all of them).
      const { rows } = await knex.raw(
        `SELECT event_key AS "eventKey" FROM transaction_events WHERE tenant_id = ? AND event_key = ANY(?)`,
        [input.items[0]!.tenantId, input.items.map(moneyEventKey)],
      );
      const known = new Set((rows as Array<{ eventKey: string }>).map((r) => r.eventKey));
      let written = 0;
      for (const item of input.items)
        if (!known.has(moneyEventKey(item)) && (await writeMoneyEvent(knex, item))) written += 1;
      return { written };
    },

    async recordOutcome(input: RecordOutcomeInput): Promise<void> {
      await recordOutcome(knex, input);
    },

    /** The program rules an authorization decision needs (the policy version in force). */
    async loadProgram(input: { tenantId: string; userId?: string | null }) {
      const { version, policy } = await currentPolicy(knex, input.tenantId);
      const user = input.userId
        ? await knex('users')
            .select('weeklySpendLimit')
            .where({ tenantId: input.tenantId, id: input.userId })
            .first()
        : null;
      return {
        version,
        regions: policy.regions,
        blockedMccs: policy.blockedMccs,
        timeZone: policy.timeZone,
        weekStartsOn: policy.weekStartsOn,
        holdExpiryDays: policy.holdExpiryDays,
        /** The card's user's weekly cap across all their cards: the user's override, else the program's. */
        weeklySpendLimit:
          (user?.weeklySpendLimit as number | null | undefined) ?? policy.weeklySpendLimitPerUser,
      };
    },

    /** Counts an authorization against its user's weekly spend, within the cap (see `reserveUserSpend`). */
    async reserveUserSpend(input: ReserveUserSpendInput): Promise<{ reserved: boolean; spent: number }> {
      return reserveUserSpend(knex, input);
    },

    /** Deliveries parked before the card was known, claimed once it has its partner id. */
    async claimParkedEvents(input: { tenantId: string; cardId: string }) {
      return claimParkedHandoffs(knex, input);
    },

    /** Tells the partner about a status the platform decided. */
    async syncPartnerStatus(input: SyncPartnerStatusInput): Promise<void> {
      const card = await Card.query(knex)
        .where({ tenantId: input.tenantId, id: input.cardId })
        .first()
        .throwIfNotFound();
      if (!card.partnerCardId) return;
      const partnerCardId = card.partnerCardId;
      await partnerCall(async () =>
        getPartner(partners, card.partner).updateCardStatus(
          await openCredentials(knex, vault, card.tenantId, card.partner),
          {
            programId: card.tenantId,
            partnerCardId,
            status: input.status,
            ...(input.changeKey ? { changeKey: input.changeKey } : {}),
            ...(input.reason ? { reason: input.reason } : {}),
          },
        ),
      );
    },
  };
}

export type CardActivities = ReturnType<typeof createCardActivities>;
