/**
 * The card state machine: statuses, the transitions between them, and who may cause each.
 * Pure: the card workflow calls `decideTransition` and applies only what it allows.
 */
export const CARD_STATUSES = ['pending', 'active', 'frozen', 'canceled', 'expired'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

export const ACTOR_TYPES = ['app', 'operator', 'partner', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const CARD_TRANSITIONS = ['activate', 'freeze', 'unfreeze', 'cancel', 'expire'] as const;
export type CardTransition = (typeof CARD_TRANSITIONS)[number];

export interface Actor {
  type: ActorType;
  /** API key id, partner name, or a system component. */
  id: string;
}

export interface TransitionRule {
  from: readonly CardStatus[];
  to: CardStatus;
  actors: readonly ActorType[];
  why: string;
}

export const TRANSITION_TABLE: Readonly<Record<CardTransition, TransitionRule>> = {
  activate: {
    from: ['pending'],
    to: 'active',
    actors: ['system'],
    why: 'the partner created the card and its number is in the vault',
  },
  freeze: {
    from: ['active', 'frozen'],
    to: 'frozen',
    actors: ['app', 'operator', 'partner', 'system'],
    why: 'stop spending without losing the card; an operator may also take over an existing freeze',
  },
  unfreeze: {
    from: ['frozen'],
    to: 'active',
    actors: ['app', 'operator', 'partner', 'system'],
    why: 'resume spending; only an actor at least as strong as the one who froze it may lift a freeze',
  },
  cancel: {
    from: ['pending', 'active', 'frozen'],
    to: 'canceled',
    actors: ['app', 'operator', 'partner', 'system'],
    why: 'the card will never be used again (final)',
  },
  expire: {
    from: ['pending', 'active', 'frozen'],
    to: 'expired',
    actors: ['system'],
    why: 'the card reached its expiry time (final)',
  },
};

export const TERMINAL_STATUSES: readonly CardStatus[] = ['canceled', 'expired'];

export function isTerminal(status: CardStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Who may lift a freeze placed by each kind of actor. An app cannot lift an operator's freeze. */
export const UNFREEZE_ALLOWED_BY: Readonly<Record<ActorType, readonly ActorType[]>> = {
  app: ['app', 'operator', 'system'],
  partner: ['partner', 'operator'],
  operator: ['operator'],
  system: ['system', 'operator'],
};

/** Who may take over an existing freeze (frozen → frozen): an operator, so the app can no longer lift it. */
const FREEZE_TAKEOVER_BY: readonly ActorType[] = ['operator'];

export interface CardStateView {
  status: CardStatus;
  frozenBy: ActorType | null;
}

export type TransitionRefusalCode =
  'CARD_TRANSITION_NOT_ALLOWED' | 'CARD_FROZEN_BY_OPERATOR' | 'CARD_FROZEN_BY_PARTNER' | 'ACTOR_NOT_ALLOWED';

export type TransitionDecision =
  | { ok: true; from: CardStatus; to: CardStatus; frozenBy: ActorType | null }
  | { ok: false; code: TransitionRefusalCode; reason: string };

export function decideTransition(
  card: CardStateView,
  transition: CardTransition,
  actor: ActorType,
): TransitionDecision {
  const rule = TRANSITION_TABLE[transition];
  if (!rule.actors.includes(actor)) {
    return { ok: false, code: 'ACTOR_NOT_ALLOWED', reason: `${actor} may not ${transition} a card` };
  }
  if (!rule.from.includes(card.status)) {
    return {
      ok: false,
      code: 'CARD_TRANSITION_NOT_ALLOWED',
      reason: `cannot ${transition} a card that is ${card.status}`,
    };
  }
  if (transition === 'freeze' && card.status === 'frozen') {
    if (!FREEZE_TAKEOVER_BY.includes(actor) || card.frozenBy === actor) {
      return {
        ok: false,
        code: 'CARD_TRANSITION_NOT_ALLOWED',
        reason: `the card is already frozen by ${card.frozenBy}`,
      };
    }
  }
  if (transition === 'unfreeze') {
    const by = card.frozenBy ?? 'system';
    if (!UNFREEZE_ALLOWED_BY[by].includes(actor)) {
      const code =
        by === 'operator'
          ? 'CARD_FROZEN_BY_OPERATOR'
          : by === 'partner'
            ? 'CARD_FROZEN_BY_PARTNER'
            : 'ACTOR_NOT_ALLOWED';
      return { ok: false, code, reason: `the card was frozen by ${by}; ${actor} may not unfreeze it` };
    }
  }
  return { ok: true, from: card.status, to: rule.to, frozenBy: rule.to === 'frozen' ? actor : null };
}
