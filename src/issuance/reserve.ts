import type { Knex } from 'knex';
import type { CardControlsInput } from '../domain/controls';
import { cardWorkflowId } from '../domain/ids';
import { checkIssuance, resolveControls } from '../domain/policy';
import type { ReserveIssuanceInput, ReserveIssuanceResult } from '../domain/card-records';
import { recordCardEvent } from '../cards/card-events';
import { currentPolicy } from '../policies/current';
import { cardsIssuedThisWeek } from './weekly-cards';

const YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * Issuance checks and the pending card row, in one transaction holding the user's row lock: two
 * concurrent requests for one user can never both pass the weekly cap. The card is issued at the
 * partner the program's policy names. A retry (the card row exists) gets the same answer.
 */
export async function reserveIssuance(
  knex: Knex,
  input: ReserveIssuanceInput,
  partners: {
    /** Whether the partner files cards under cardholders that need a billing address. */
    needsBillingAddress(partner: string): boolean;
  } = { needsBillingAddress: () => false },
): Promise<ReserveIssuanceResult> {
  return knex.transaction(async (trx) => {
    const user = await trx('users').where({ tenantId: input.tenantId, id: input.userId }).forUpdate().first<
      | {
          id: string;
          status: 'active' | 'suspended';
          region: string;
          weeklyCardLimitLifted: boolean;
          billingAddress: unknown;
        }
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
    const refusal = checkIssuance({
      policy,
      user,
      controls,
      expiresAtMs,
      nowMs: input.requestedAtMs,
      cardsIssuedThisWeek: await cardsIssuedThisWeek(trx, {
        tenantId: input.tenantId,
        userId: input.userId,
        atMs: input.requestedAtMs,
        policy,
      }),
      overrides: {
        ...input.overrides,
        ignoreWeeklyCardLimit: input.overrides?.ignoreWeeklyCardLimit || user.weeklyCardLimitLifted,
      },
    });
    if (refusal) return { ok: false, refusal };
    if (!user.billingAddress && partners.needsBillingAddress(policy.partner))
      return {
        ok: false,
        refusal: {
          code: 'USER_BILLING_ADDRESS_REQUIRED',
          message: 'the program issues at a partner that needs the user’s billingAddress',
          details: { userId: user.id },
        },
      };

    const occurredAt = new Date(input.requestedAtMs);
    await trx('cards').insert({
      id: input.cardId,
      tenantId: input.tenantId,
      userId: user.id,
      status: 'pending',
      currency: input.currency,
      controls: JSON.stringify(controls),
      expiresAt: new Date(expiresAtMs),
      partner: policy.partner,
      workflowId: cardWorkflowId(input.tenantId, input.cardId),
      region: user.region,
      issuedByType: input.issuedBy.type,
      issuedById: input.issuedBy.id,
      issueReason: input.reason ?? null,
      policyVersion: version,
      metadata: JSON.stringify(input.metadata ?? {}),
      statusChangedAt: occurredAt,
    });
    await recordCardEvent(trx, {
      tenantId: input.tenantId,
      cardId: input.cardId,
      from: null,
      to: 'pending',
      actor: input.issuedBy,
      cause: 'issue_requested',
      reason: input.reason ?? null,
      eventKey: 't1',
      occurredAtMs: input.requestedAtMs,
    });
    return {
      ok: true,
      userId: user.id,
      region: user.region,
      currency: input.currency,
      expiresAtMs,
      partner: policy.partner,
      controls,
    };
  });
}
