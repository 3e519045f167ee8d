/**
 * What each operator override does to a card, in one table: for every override type, what it acts
 * on (the snapshot recorded as `before`/`after`), the snapshot it brings the card to, the change
 * that brings the card to a snapshot (applying the override, or restoring `before` when it
 * expires), and the checks it must pass. Pure: the card workflow carries out the change.
 */
import { decideTransition, isTerminal, type ActorType, type CardStatus } from './card-state';
import type { CardControls, SpendingLimit } from './controls';
import { IRREVERSIBLE_ACTIONS, type CardActionType } from './overrides';

/** What an override acts on, as recorded in the admin action's before/after. JSON. */
export type OverrideSnapshot = Record<string, unknown>;

export interface OverrideCardView {
  status: CardStatus | 'new';
  frozenBy: ActorType | null;
  controls: CardControls | null;
  expiresAtMs: number | null;
}

/** One change to the card, carried out by the workflow. */
export type OverrideChange =
  /** A state-machine transition; `actorType` replaces the acting operator's type (restoring another's freeze). */
  | { kind: 'transition'; transition: 'freeze' | 'unfreeze' | 'cancel'; actorType?: ActorType }
  | { kind: 'controls'; controls: CardControls }
  | { kind: 'expiry'; expiresAtMs: number }
  | { kind: 'none' };

export interface OverrideRefusal {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface OverrideStrategy {
  snapshot(card: OverrideCardView): OverrideSnapshot;
  /** The snapshot the override brings the card to. */
  target(card: OverrideCardView, params: Record<string, unknown>): OverrideSnapshot;
  /** The change that brings the card to `to` (a snapshot of this type). */
  changeTo(card: OverrideCardView, to: OverrideSnapshot): OverrideChange;
  /** This type's own checks, after the common ones (see validateOverride). */
  refusal(
    card: OverrideCardView & { status: CardStatus },
    params: Record<string, unknown>,
  ): OverrideRefusal | null;
}

const notFinal = (card: { status: CardStatus }): OverrideRefusal | null =>
  isTerminal(card.status)
    ? { code: 'CARD_TRANSITION_NOT_ALLOWED', message: `the card is ${card.status}` }
    : null;

/** freeze, unfreeze and cancel: the card's status, changed through the state machine as an operator. */
function statusOverride(type: 'freeze' | 'unfreeze' | 'cancel'): OverrideStrategy {
  const targets = {
    freeze: { status: 'frozen', frozenBy: 'operator' },
    unfreeze: { status: 'active', frozenBy: null },
    cancel: { status: 'canceled', frozenBy: null },
  } as const;
  return {
    snapshot: (card) => ({ status: card.status, frozenBy: card.frozenBy }),
    target: () => ({ ...targets[type] }),
    changeTo: (_card, to) => {
      switch (to.status as CardStatus) {
        case 'active':
          return { kind: 'transition', transition: 'unfreeze' };
        case 'frozen':
          // Restoring a freeze restores whose freeze it was (an app's freeze stays liftable by the app).
          return {
            kind: 'transition',
            transition: 'freeze',
            actorType: (to.frozenBy as ActorType | null) ?? 'operator',
          };
        case 'canceled':
          return { kind: 'transition', transition: 'cancel' };
        default:
          return { kind: 'none' };
      }
    },
    refusal: (card) => {
      const d = decideTransition(card, type, 'operator');
      return d.ok
        ? null
        : { code: d.code, message: d.reason, details: { status: card.status, frozenBy: card.frozenBy } };
    },
  };
}

export const OVERRIDE_STRATEGIES: Readonly<Record<CardActionType, OverrideStrategy>> = {
  freeze: statusOverride('freeze'),
  unfreeze: statusOverride('unfreeze'),
  cancel: statusOverride('cancel'),
  set_spending_limits: {
    snapshot: (card) => ({ spendingLimits: card.controls?.spendingLimits ?? [] }),
    target: (_card, params) => ({ spendingLimits: params.spendingLimits }),
    changeTo: (card, to) => ({
      kind: 'controls',
      controls: { ...card.controls!, spendingLimits: to.spendingLimits as SpendingLimit[] },
    }),
    refusal: notFinal,
  },
  allow_regions: {
    snapshot: (card) => ({ allowedRegions: card.controls?.allowedRegions ?? [] }),
    // Adds regions to the card's own; never removes one.
    target: (card, params) => {
      const current = card.controls?.allowedRegions ?? [];
      const added = (params.regions as string[]).filter((r) => !current.includes(r));
      return { allowedRegions: [...current, ...added] };
    },
    changeTo: (card, to) => ({
      kind: 'controls',
      controls: { ...card.controls!, allowedRegions: to.allowedRegions as string[] },
    }),
    refusal: notFinal,
  },
  extend_expiry: {
    snapshot: (card) => ({ expiresAt: new Date(card.expiresAtMs ?? 0).toISOString() }),
    target: (_card, params) => ({ expiresAt: new Date(Date.parse(String(params.expiresAt))).toISOString() }),
    changeTo: (_card, to) => ({ kind: 'expiry', expiresAtMs: Date.parse(String(to.expiresAt)) }),
    refusal: (card, params) =>
      notFinal(card) ??
      (Date.parse(String(params.expiresAt)) > (card.expiresAtMs ?? 0)
        ? null
        : { code: 'EXPIRY_NOT_EXTENDED', message: 'the new expiry must be later than the current one' }),
  },
};

/** Why the card cannot take this override now (null: it can). */
export function overrideRefusal(
  card: OverrideCardView,
  req: { type: CardActionType; params: Record<string, unknown>; expiresAtMs?: number },
): OverrideRefusal | null {
  if (card.status === 'new') return { code: 'CARD_NOT_ISSUED', message: 'the card has not been issued' };
  if (req.expiresAtMs !== undefined && IRREVERSIBLE_ACTIONS.includes(req.type))
    return { code: 'OVERRIDE_NOT_REVERSIBLE', message: `${req.type} cannot be given an expiry` };
  return OVERRIDE_STRATEGIES[req.type].refusal({ ...card, status: card.status }, req.params);
}

const sameSnapshot = (a: OverrideSnapshot, b: OverrideSnapshot): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

/**
 * What to do when an override's time is up: restore what it replaced, unless the card changed
 * since (someone acted on it after the override) or is final, in which case the override lapses.
 */
export function overrideExpiry(
  card: OverrideCardView,
  o: { type: CardActionType; before: OverrideSnapshot; after: OverrideSnapshot },
): { kind: 'lapse' } | { kind: 'restore'; change: OverrideChange } {
  const strategy = OVERRIDE_STRATEGIES[o.type];
  if (card.status === 'new' || isTerminal(card.status) || !sameSnapshot(strategy.snapshot(card), o.after))
    return { kind: 'lapse' };
  return { kind: 'restore', change: strategy.changeTo(card, o.before) };
}
