/**
 * Operator overrides on the card: the `applyOverride` update and, for an override with an expiry,
 * its revert when the time is up. What each override type does is one entry of
 * OVERRIDE_STRATEGIES (domain/override-strategies); this module carries out the change it names
 * and records the admin action's decision.
 */
import { log } from '@temporalio/workflow';
import type { Actor } from '../../domain/card-state';
import {
  OVERRIDE_STRATEGIES,
  overrideExpiry,
  overrideRefusal,
  type OverrideChange,
  type OverrideSnapshot,
} from '../../domain/override-strategies';
import type { RecordActionDecisionInput } from '../../domain/card-records';
import type { ApplyOverrideInput, ApplyOverrideResult } from '../messages';
import { db } from './activities';
import { refuse, type CardEntity } from './entity';
import type { PendingOverride } from './state';

export function validateOverride(card: CardEntity, req: ApplyOverrideInput): void {
  if (card.recalled(req.actionId)) return;
  const refusal = overrideRefusal(card.state, req);
  if (refusal) refuse(refusal.code, refusal.message, refusal.details);
}

/** Carries out one change an override strategy names. */
async function make(card: CardEntity, change: OverrideChange, actor: Actor, cause: string, reason: string) {
  switch (change.kind) {
    case 'transition': {
      const by = change.actorType ? { ...actor, type: change.actorType } : actor;
      return card.move(change.transition, by, cause, reason);
    }
    case 'controls':
      return card.setControls(change.controls);
    case 'expiry':
      return card.setExpiry(change.expiresAtMs);
    case 'none':
      return;
  }
}

const decided = (card: CardEntity, d: Omit<RecordActionDecisionInput, 'tenantId'>) =>
  db.recordActionDecision({ tenantId: card.state.tenantId, ...d });

export async function applyOverride(card: CardEntity, req: ApplyOverrideInput): Promise<ApplyOverrideResult> {
  const earlier = card.recalled<ApplyOverrideResult>(req.actionId);
  if (earlier) return earlier;
  validateOverride(card, req); // again under the mutex: the card may have moved since the validator ran
  const strategy = OVERRIDE_STRATEGIES[req.type];
  const before = strategy.snapshot(card.state);
  const target = strategy.target(card.state, req.params);
  await make(card, strategy.changeTo(card.state, target), req.actor, `operator_${req.type}`, req.reason);
  const after: OverrideSnapshot = strategy.snapshot(card.state);
  await decided(card, { actionId: req.actionId, decision: 'applied', decidedBy: req.actor.id, after });
  if (req.expiresAtMs !== undefined)
    card.state.pendingOverrides.push({
      actionId: req.actionId,
      type: req.type,
      revertAtMs: req.expiresAtMs,
      before,
      after,
    });
  const result: ApplyOverrideResult = { actionId: req.actionId, before, after };
  card.remember(req.actionId, result);
  return result;
}

/** An override whose time is up: what it replaced is restored, unless the card changed since. */
export async function revertOverride(card: CardEntity, o: PendingOverride): Promise<void> {
  const expiry = overrideExpiry(card.state, o);
  if (expiry.kind === 'lapse') {
    await decided(card, {
      actionId: o.actionId,
      decision: 'expired',
      decidedBy: 'system',
      note: 'the card changed since the override; nothing restored',
    });
    return;
  }
  try {
    const actor: Actor = { type: 'operator', id: o.actionId };
    await make(card, expiry.change, actor, 'override_expired', `override ${o.actionId} expired`);
    const after = OVERRIDE_STRATEGIES[o.type].snapshot(card.state);
    await decided(card, { actionId: o.actionId, decision: 'reverted', decidedBy: 'system', after });
  } catch (err) {
    log.warn('override could not be reverted', { actionId: o.actionId, error: String(err) });
    await decided(card, {
      actionId: o.actionId,
      decision: 'expired',
      decidedBy: 'system',
      note: String(err),
    });
  }
}
