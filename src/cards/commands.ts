import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Card } from '../db/models';
import { DomainError } from '../domain/errors';
import { revealCardSecret } from '../vault/card-vault';
import type { CardSecret, Vault } from '../vault/vault';
import { changeStatusUpdate, type ChangeCardStatusInput } from '../workflows/messages';

/**
 * An app's freeze, unfreeze or cancel, through the card's workflow (the one writer of its state).
 * With the caller's idempotency key, a retry gets the first result, across workflow runs.
 */
export async function changeCardStatus(
  temporal: Client,
  card: Pick<Card, 'workflowId'>,
  input: Omit<ChangeCardStatusInput, 'requestKey'> & { idempotencyKey?: string },
): Promise<void> {
  const { idempotencyKey, ...change } = input;
  const requestKey = idempotencyKey ? `app:${change.transition}:${idempotencyKey}` : undefined;
  await temporal.workflow.getHandle(card.workflowId).executeUpdate(changeStatusUpdate, {
    args: [{ ...change, requestKey }],
    ...(requestKey ? { updateId: requestKey } : {}),
  });
}

/**
 * A card's number, out of the vault for the caller, with the audit row that says who saw it
 * (`audit_events`, append-only: this is its one writer). Only an active or frozen card reveals.
 */
export async function revealCard(
  deps: { knex: Knex; vault: Vault },
  card: Pick<Card, 'id' | 'tenantId' | 'status' | 'last4'>,
  audit: { actorType: string; actorId: string; requestId: string; ip: string; userAgent: string },
): Promise<CardSecret> {
  if (card.status !== 'active' && card.status !== 'frozen') {
    throw new DomainError('CARD_NOT_REVEALABLE', `a ${card.status} card cannot be revealed`);
  }
  const secret = await revealCardSecret(deps.knex, deps.vault, card.tenantId, card.id);
  if (!secret)
    // Issued at a partner that does not reveal numbers to this program (a Stripe test key, a
    // Lithic program without PCI clearance): the platform has the last four digits only.
    throw new DomainError('CARD_NUMBER_UNAVAILABLE', 'the partner did not reveal this card’s number', {
      last4: card.last4,
    });
  await deps.knex('audit_events').insert({
    tenantId: card.tenantId,
    actorType: audit.actorType,
    actorId: audit.actorId,
    action: 'card.reveal',
    subjectType: 'card',
    subjectId: card.id,
    requestId: audit.requestId,
    details: JSON.stringify({ last4: card.last4, ip: audit.ip, userAgent: audit.userAgent.slice(0, 200) }),
  });
  return secret;
}
