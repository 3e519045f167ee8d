import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { DomainError } from '../domain/errors';
import { derivedId } from '../lib/ids';
import { issueThroughWorkflow, type CardWorkflowConfig } from '../temporal/card-client';
import type { IssueCardInput } from '../workflows/messages';

export interface IssuanceDeps {
  knex: Knex;
  temporal: Client;
  cards: CardWorkflowConfig;
}

/** What the requester asks for: the card's user, currency, controls, expiry and metadata. */
export type CardRequest = Pick<IssueCardInput, 'userId' | 'currency' | 'controls' | 'expiresAt' | 'metadata'>;

/**
 * Issues a card for a user of the tenant, the app's way and the operator's alike: the card id
 * derives from the idempotency key, so a retried or concurrent request reaches the same card
 * workflow and the same `issue` update, and gets the same outcome. The workflow checks the
 * program's rules (`reserveIssuance`) and creates the card at the policy's partner. Returns the
 * card's id.
 */
export async function issueCard(
  deps: IssuanceDeps,
  input: {
    tenantId: string;
    idempotencyKey: string;
    request: CardRequest;
    issuedBy: IssueCardInput['issuedBy'];
    reason?: string;
  } & Pick<IssueCardInput, 'overrides' | 'actionId' | 'requestHash'>,
): Promise<{ cardId: string }> {
  const { tenantId, idempotencyKey, request, issuedBy, reason, ...extra } = input;
  const user = await deps.knex('users').where({ tenantId, id: request.userId }).first();
  if (!user) throw new DomainError('NOT_FOUND', 'user not found');
  const cardId = derivedId('card', tenantId, idempotencyKey);
  await issueThroughWorkflow(deps.temporal, deps.cards, {
    tenantId,
    cardId,
    ...request,
    issuedBy,
    reason,
    ...extra,
  });
  return { cardId };
}
