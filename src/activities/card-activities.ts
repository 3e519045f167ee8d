import type { Knex } from 'knex';
import { Context } from '@temporalio/activity';
import { checkIssuance, resolveControls } from '../domain/policy';
import type { CardControlsInput } from '../domain/controls';
import { cardWorkflowId } from '../domain/ids';
import type { CanonicalEvent } from '../domain/events';
import { windowStart } from '../domain/time-windows';
import { Card } from '../db/models';
import { getPartner, type PartnerRegistry } from '../partners/types';
import { currentPolicy } from '../policies/current';
import { moneyEventKey, moneyTransactionId, writeMoneyEvent } from '../cards/money-events';
import { storeCardSecret } from '../vault/card-vault';
import type { Vault } from '../vault/vault';
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

export interface CardActivityDeps {
  knex: Knex;
  partners: PartnerRegistry;
  vault: Vault;
  defaultPartner?: string;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * Activities of the card workflow. Each is idempotent, keyed by ids the workflow passes in, and
 * backed by unique constraints, so Temporal's retries never write twice.
 */
export function createCardActivities(deps: CardActivityDeps) {
  const { knex, partners, vault } = deps;
  const defaultPartner = deps.defaultPartner ?? 'sandbox';

  return {
    /**
     * Issuance checks and the pending card row, in one transaction holding the user's row lock:
     * two concurrent requests for one user can never both pass the weekly cap.
     */
    async reserveIssuance(input: ReserveIssuanceInput): Promise<ReserveIssuanceResult> {
      return knex.transaction(async (trx) => {
        const user = await trx('users')
          .where({ tenantId: input.tenantId, id: input.userId })
          .forUpdate()
          .first<
            | { id: string; status: 'active' | 'suspended'; region: string; weeklyCardLimitLifted: boolean }
            | undefined
          >();
        if (!user) {
          return { ok: false, refusal: { code: 'USER_NOT_ACTIVE', message: 'the user does not exist' } };
        }
        const existing = await trx('cards').where({ tenantId: input.tenantId, id: input.cardId }).first();
        if (existing) {
          return {
            ok: true,
            userId: existing.userId,
            region: existing.region,
            currency: existing.currency,
            expiresAtMs: new Date(existing.expiresAt).getTime(),
            partner: existing.partner,
            controls: existing.controls,
          };
        }
        const { version, policy } = await currentPolicy(trx, input.tenantId);
        const controls = resolveControls(input.controls as CardControlsInput | undefined, policy);
        const expiresAtMs = input.expiresAt ? Date.parse(input.expiresAt) : input.requestedAtMs + YEAR_MS;
        const weekStart = windowStart(input.requestedAtMs, 'weekly', policy.timeZone, policy.weekStartsOn)!;
        const [{ count }] = await trx('cards')
          .where({ tenantId: input.tenantId, userId: input.userId })
          .where('createdAt', '>=', new Date(weekStart))
          .whereNot((q) => q.where('status', 'canceled').whereNull('partnerCardId'))
          .count<{ count: string }[]>({ count: '*' });
        const refusal = checkIssuance({
          policy,
          user,
          controls,
          expiresAtMs,
          nowMs: input.requestedAtMs,
          cardsIssuedThisWeek: Number(count),
          overrides: {
            ...input.overrides,
            ignoreWeeklyCardLimit: input.overrides?.ignoreWeeklyCardLimit || user.weeklyCardLimitLifted,
          },
        });
        if (refusal) return { ok: false, refusal };

        const occurredAt = new Date(input.requestedAtMs);
        await trx('cards').insert({
          id: input.cardId,
          tenantId: input.tenantId,
          userId: user.id,
          status: 'pending',
          currency: input.currency,
          controls: JSON.stringify(controls),
          expiresAt: new Date(expiresAtMs),
          partner: defaultPartner,
          workflowId: cardWorkflowId(input.tenantId, input.cardId),
          region: user.region,
          issuedByType: input.issuedBy.type,
          issuedById: input.issuedBy.id,
          issueReason: input.reason ?? null,
          policyVersion: version,
          metadata: JSON.stringify(input.metadata ?? {}),
          statusChangedAt: occurredAt,
        });
        await trx('card_events').insert({
          tenantId: input.tenantId,
          cardId: input.cardId,
          fromStatus: null,
          toStatus: 'pending',
          actorType: input.issuedBy.type,
          actorId: input.issuedBy.id,
          cause: 'issue_requested',
          reason: input.reason ?? null,
          eventKey: 't1',
          occurredAt,
        });
        return {
          ok: true,
          userId: user.id,
          region: user.region,
          currency: input.currency,
          expiresAtMs,
          partner: defaultPartner,
          controls,
        };
      });
    },

    /** Creates the card at the partner and puts its number straight into the vault. Returns no number. */
    async createAtPartner(input: CreateAtPartnerInput): Promise<CreateAtPartnerResult> {
      const card = await Card.query(knex)
        .where({ tenantId: input.tenantId, id: input.cardId })
        .first()
        .throwIfNotFound();
      if (card.partnerCardId && card.vaultEntryId && card.last4 && card.expMonth && card.expYear) {
        return {
          partnerCardId: card.partnerCardId,
          last4: card.last4,
          expMonth: card.expMonth,
          expYear: card.expYear,
        };
      }
      Context.current().heartbeat();
      const created = await getPartner(partners, card.partner).createCard({
        programId: card.tenantId,
        platformCardRef: card.id,
        expiresAt: card.expiresAt,
        currency: card.currency,
      });
      const last4 = created.number.slice(-4);
      await knex.transaction(async (trx) => {
        const vaultEntryId = await storeCardSecret(trx, vault, card.tenantId, card.id, {
          number: created.number,
          cvc: created.cvc,
        });
        await trx('cards').where({ tenantId: card.tenantId, id: card.id }).update({
          partnerCardId: created.partnerCardId,
          vaultEntryId,
          last4,
          expMonth: created.expMonth,
          expYear: created.expYear,
          updatedAt: knex.fn.now(),
        });
      });
      return {
        partnerCardId: created.partnerCardId,
        last4,
        expMonth: created.expMonth,
        expYear: created.expYear,
      };
    },

    /** Writes one state transition: the card_events row and the cards snapshot, once per event key. */
    async recordTransition(input: RecordTransitionInput): Promise<void> {
      await knex.transaction(async (trx) => {
        const occurredAt = new Date(input.occurredAtMs);
        const inserted = await trx('card_events')
          .insert({
            tenantId: input.tenantId,
            cardId: input.cardId,
            fromStatus: input.from,
            toStatus: input.to,
            actorType: input.actor.type,
            actorId: input.actor.id,
            cause: input.cause,
            reason: input.reason ?? null,
            eventKey: input.eventKey,
            occurredAt,
          })
          .onConflict(['tenantId', 'cardId', 'eventKey'])
          .ignore()
          .returning('id');
        if (!inserted.length) return;
        await trx('cards').where({ tenantId: input.tenantId, id: input.cardId }).update({
          status: input.to,
          frozenBy: input.frozenBy,
          statusChangedAt: occurredAt,
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
      await knex('admin_action_decisions')
        .insert({
          tenantId: input.tenantId,
          actionId: input.actionId,
          decision: input.decision,
          decidedBy: input.decidedBy,
          note: input.note ?? null,
          after: input.after === undefined ? null : JSON.stringify(input.after),
        })
        .onConflict(['tenantId', 'actionId', 'decision'])
        .ignore();
    },

    /**
     * Writes a partner money event once (transaction_events.event_key is unique), the transaction
     * snapshot the workflow computed, and the delivery's outcome (applied, or duplicate when the
     * event was already written). Returns whether this call wrote it: the workflow changes its
     * ledger only then, so no event is counted twice even past its in-memory dedupe window.
     */
    async recordMoneyEvent(input: RecordMoneyEventInput): Promise<RecordMoneyEventResult> {
      const { event: ev } = input;
      const transactionId = moneyTransactionId(input);
      const eventKey = moneyEventKey(input);
      if (await writeMoneyEvent(knex, input)) return { applied: true, priorDecision: null };
      // Written before: by an earlier attempt of this very call (its commit key), or by another delivery.
      const prior = await knex('transaction_events').where({ tenantId: input.tenantId, eventKey }).first();
      const ours = prior?.data?.commitKey === input.commitKey;
      if (!ours && input.deliveryId) {
        await knex('webhook_outcomes').insert({
          tenantId: input.tenantId,
          deliveryId: input.deliveryId,
          outcome: 'duplicate',
          eventId: ev.eventId,
          eventType: ev.kind,
          cardId: input.cardId,
          details: JSON.stringify({ source: input.source, transactionId }),
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
      await knex('webhook_outcomes').insert({
        tenantId: input.tenantId,
        deliveryId: input.deliveryId,
        outcome: input.outcome,
        eventId: input.eventId,
        eventType: input.eventType,
        cardId: input.cardId,
        error: input.error ?? null,
        details: JSON.stringify(input.details ?? {}),
      });
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

    /**
     * Counts an authorization against its user's weekly spend across all their cards, only if the
     * week stays within `limit`: a conditional upsert on the week's row, which PostgreSQL locks and
     * re-checks, so cards racing for the same user can never pass the cap together. Setting the
     * same contribution again changes nothing (a retried attempt).
     */
    async reserveUserSpend(input: {
      tenantId: string;
      userId: string;
      /** The request's transaction_events key (partner:eventId). */
      eventKey: string;
      itemKey: string;
      weekStartMs: number;
      contribution: number;
      limit: number;
      /** The card's sequence number of the write that will follow (see writeMoneyEvent). */
      seq?: number;
    }): Promise<{ reserved: boolean; spent: number }> {
      const { rows } = await knex.raw(
        `WITH old AS (SELECT amount, week_start FROM user_spend_items WHERE tenant_id = :tenantId AND item_key = :itemKey),
         -- A request already on record (a redelivery past the card's memory) reserves nothing: the
         -- card answers it with the recorded decision.
         known AS (SELECT 1 FROM transaction_events WHERE tenant_id = :tenantId AND event_key = :eventKey),
         d AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM known) THEN 0
                           ELSE :contribution::bigint - COALESCE((SELECT amount FROM old), 0) END AS delta,
                      COALESCE((SELECT week_start FROM old), :weekStart::timestamptz) AS ws),
         w AS (
           INSERT INTO user_spend_weeks AS w (tenant_id, user_id, week_start, spent)
           SELECT :tenantId, :userId, d.ws, d.delta FROM d WHERE d.delta <> 0 AND d.delta <= :limit
           ON CONFLICT (tenant_id, user_id, week_start) DO UPDATE SET spent = w.spent + EXCLUDED.spent
            WHERE w.spent + EXCLUDED.spent <= :limit
           RETURNING spent
         ),
         i AS (
           INSERT INTO user_spend_items (tenant_id, item_key, user_id, week_start, amount, money_seq, last_delta)
           SELECT :tenantId, :itemKey, :userId, d.ws, :contribution, :seq, d.delta FROM d WHERE EXISTS (SELECT 1 FROM w)
           ON CONFLICT (tenant_id, item_key) DO UPDATE SET amount = EXCLUDED.amount,
                  money_seq = EXCLUDED.money_seq, last_delta = EXCLUDED.last_delta, updated_at = now()
         )
         SELECT (SELECT delta FROM d) = 0 OR EXISTS (SELECT 1 FROM w) AS "reserved",
                COALESCE((SELECT spent FROM w), (SELECT spent FROM user_spend_weeks x, d
                           WHERE x.tenant_id = :tenantId AND x.user_id = :userId AND x.week_start = d.ws), 0) AS "spent"`,
        { ...input, seq: input.seq ?? null, weekStart: new Date(input.weekStartMs) },
      );
      return { reserved: Boolean(rows[0].reserved), spent: Number(rows[0].spent) };
    },

    /**
     * Deliveries parked because they arrived before the card was known: claimed by the card's
     * workflow once issuance gave the card its partner id.
     */
    async claimParkedEvents(input: { tenantId: string; cardId: string }) {
      return knex.transaction(async (trx) => {
        const card = await trx('cards').where({ tenantId: input.tenantId, id: input.cardId }).first();
        if (!card?.partnerCardId) return [];
        // Parked rows, and rows already handed to this card (a retried claim must return what the
        // first attempt took; the workflow drops what it has already applied).
        const rows = await trx('webhook_handoffs')
          .where({ tenantId: input.tenantId, partner: card.partner, partnerCardId: card.partnerCardId })
          .where((q) => q.where({ status: 'parked' }).orWhere({ status: 'handed_off', cardId: card.id }))
          .forUpdate()
          .orderBy('createdAt');
        if (!rows.length) return [];
        await trx('webhook_handoffs')
          .whereIn(
            'deliveryId',
            rows.map((r: { deliveryId: string }) => r.deliveryId),
          )
          .where({ status: 'parked' })
          .update({ status: 'handed_off', cardId: card.id, updatedAt: trx.fn.now() });
        return rows.map(
          (r: { deliveryId: string; event: CanonicalEvent; source: 'partner' | 'reconciliation' }) => ({
            deliveryId: r.deliveryId,
            event: r.event,
            source: r.source,
          }),
        );
      });
    },

    /** Tells the partner about a status the platform decided. */
    async syncPartnerStatus(input: SyncPartnerStatusInput): Promise<void> {
      const card = await Card.query(knex)
        .where({ tenantId: input.tenantId, id: input.cardId })
        .first()
        .throwIfNotFound();
      if (!card.partnerCardId) return;
      await getPartner(partners, card.partner).updateCardStatus({
        programId: card.tenantId,
        partnerCardId: card.partnerCardId,
        status: input.status,
      });
    },
  };
}

export type CardActivities = ReturnType<typeof createCardActivities>;
