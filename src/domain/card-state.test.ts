import {
  ACTOR_TYPES,
  CARD_TRANSITIONS,
  decideTransition,
  type ActorType,
  type CardStatus,
} from './card-state';

/**
 * The whole transition table, written out by hand: every (state, transition, actor) triple, with
 * frozen split by who froze the card. `frozen/operator` means frozen by an operator. The result is
 * the new state (and who holds the freeze) or the refusal code.
 */
const EXPECTED = `
  pending            activate  app       → ACTOR_NOT_ALLOWED
  pending            activate  operator  → ACTOR_NOT_ALLOWED
  pending            activate  partner   → ACTOR_NOT_ALLOWED
  pending            activate  system    → active
  pending            freeze    app       → CARD_TRANSITION_NOT_ALLOWED
  pending            freeze    operator  → CARD_TRANSITION_NOT_ALLOWED
  pending            freeze    partner   → CARD_TRANSITION_NOT_ALLOWED
  pending            freeze    system    → CARD_TRANSITION_NOT_ALLOWED
  pending            unfreeze  app       → CARD_TRANSITION_NOT_ALLOWED
  pending            unfreeze  operator  → CARD_TRANSITION_NOT_ALLOWED
  pending            unfreeze  partner   → CARD_TRANSITION_NOT_ALLOWED
  pending            unfreeze  system    → CARD_TRANSITION_NOT_ALLOWED
  pending            cancel    app       → canceled
  pending            cancel    operator  → canceled
  pending            cancel    partner   → canceled
  pending            cancel    system    → canceled
  pending            expire    app       → ACTOR_NOT_ALLOWED
  pending            expire    operator  → ACTOR_NOT_ALLOWED
  pending            expire    partner   → ACTOR_NOT_ALLOWED
  pending            expire    system    → expired
  active             activate  app       → ACTOR_NOT_ALLOWED
  active             activate  operator  → ACTOR_NOT_ALLOWED
  active             activate  partner   → ACTOR_NOT_ALLOWED
  active             activate  system    → CARD_TRANSITION_NOT_ALLOWED
  active             freeze    app       → frozen/app
  active             freeze    operator  → frozen/operator
  active             freeze    partner   → frozen/partner
  active             freeze    system    → frozen/system
  active             unfreeze  app       → CARD_TRANSITION_NOT_ALLOWED
  active             unfreeze  operator  → CARD_TRANSITION_NOT_ALLOWED
  active             unfreeze  partner   → CARD_TRANSITION_NOT_ALLOWED
  active             unfreeze  system    → CARD_TRANSITION_NOT_ALLOWED
  active             cancel    app       → canceled
  active             cancel    operator  → canceled
  active             cancel    partner   → canceled
  active             cancel    system    → canceled
  active             expire    app       → ACTOR_NOT_ALLOWED
  active             expire    operator  → ACTOR_NOT_ALLOWED
  active             expire    partner   → ACTOR_NOT_ALLOWED
  active             expire    system    → expired
  frozen/app         activate  app       → ACTOR_NOT_ALLOWED
  frozen/app         activate  operator  → ACTOR_NOT_ALLOWED
  frozen/app         activate  partner   → ACTOR_NOT_ALLOWED
  frozen/app         activate  system    → CARD_TRANSITION_NOT_ALLOWED
  frozen/app         freeze    app       → CARD_TRANSITION_NOT_ALLOWED
  frozen/app         freeze    operator  → frozen/operator
  frozen/app         freeze    partner   → CARD_TRANSITION_NOT_ALLOWED
  frozen/app         freeze    system    → CARD_TRANSITION_NOT_ALLOWED
  frozen/app         unfreeze  app       → active
  frozen/app         unfreeze  operator  → active
  frozen/app         unfreeze  partner   → ACTOR_NOT_ALLOWED
  frozen/app         unfreeze  system    → active
  frozen/app         cancel    app       → canceled
  frozen/app         cancel    operator  → canceled
  frozen/app         cancel    partner   → canceled
  frozen/app         cancel    system    → canceled
  frozen/app         expire    app       → ACTOR_NOT_ALLOWED
  frozen/app         expire    operator  → ACTOR_NOT_ALLOWED
  frozen/app         expire    partner   → ACTOR_NOT_ALLOWED
  frozen/app         expire    system    → expired
  frozen/operator    activate  app       → ACTOR_NOT_ALLOWED
  frozen/operator    activate  operator  → ACTOR_NOT_ALLOWED
  frozen/operator    activate  partner   → ACTOR_NOT_ALLOWED
  frozen/operator    activate  system    → CARD_TRANSITION_NOT_ALLOWED
  frozen/operator    freeze    app       → CARD_TRANSITION_NOT_ALLOWED
  frozen/operator    freeze    operator  → CARD_TRANSITION_NOT_ALLOWED
  frozen/operator    freeze    partner   → CARD_TRANSITION_NOT_ALLOWED
  frozen/operator    freeze    system    → CARD_TRANSITION_NOT_ALLOWED
  frozen/operator    unfreeze  app       → CARD_FROZEN_BY_OPERATOR
  frozen/operator    unfreeze  operator  → active
  frozen/operator    unfreeze  partner   → CARD_FROZEN_BY_OPERATOR
  frozen/operator    unfreeze  system    → CARD_FROZEN_BY_OPERATOR
  frozen/operator    cancel    app       → canceled
  frozen/operator    cancel    operator  → canceled
  frozen/operator    cancel    partner   → canceled
  frozen/operator    cancel    system    → canceled
  frozen/operator    expire    app       → ACTOR_NOT_ALLOWED
  frozen/operator    expire    operator  → ACTOR_NOT_ALLOWED
  frozen/operator    expire    partner   → ACTOR_NOT_ALLOWED
  frozen/operator    expire    system    → expired
  frozen/partner     activate  app       → ACTOR_NOT_ALLOWED
  frozen/partner     activate  operator  → ACTOR_NOT_ALLOWED
  frozen/partner     activate  partner   → ACTOR_NOT_ALLOWED
  frozen/partner     activate  system    → CARD_TRANSITION_NOT_ALLOWED
  frozen/partner     freeze    app       → CARD_TRANSITION_NOT_ALLOWED
  frozen/partner     freeze    operator  → frozen/operator
  frozen/partner     freeze    partner   → CARD_TRANSITION_NOT_ALLOWED
  frozen/partner     freeze    system    → CARD_TRANSITION_NOT_ALLOWED
  frozen/partner     unfreeze  app       → CARD_FROZEN_BY_PARTNER
  frozen/partner     unfreeze  operator  → active
  frozen/partner     unfreeze  partner   → active
  frozen/partner     unfreeze  system    → CARD_FROZEN_BY_PARTNER
  frozen/partner     cancel    app       → canceled
  frozen/partner     cancel    operator  → canceled
  frozen/partner     cancel    partner   → canceled
  frozen/partner     cancel    system    → canceled
  frozen/partner     expire    app       → ACTOR_NOT_ALLOWED
  frozen/partner     expire    operator  → ACTOR_NOT_ALLOWED
  frozen/partner     expire    partner   → ACTOR_NOT_ALLOWED
  frozen/partner     expire    system    → expired
  frozen/system      activate  app       → ACTOR_NOT_ALLOWED
  frozen/system      activate  operator  → ACTOR_NOT_ALLOWED
  frozen/system      activate  partner   → ACTOR_NOT_ALLOWED
  frozen/system      activate  system    → CARD_TRANSITION_NOT_ALLOWED
  frozen/system      freeze    app       → CARD_TRANSITION_NOT_ALLOWED
  frozen/system      freeze    operator  → frozen/operator
  frozen/system      freeze    partner   → CARD_TRANSITION_NOT_ALLOWED
  frozen/system      freeze    system    → CARD_TRANSITION_NOT_ALLOWED
  frozen/system      unfreeze  app       → ACTOR_NOT_ALLOWED
  frozen/system      unfreeze  operator  → active
  frozen/system      unfreeze  partner   → ACTOR_NOT_ALLOWED
  frozen/system      unfreeze  system    → active
  frozen/system      cancel    app       → canceled
  frozen/system      cancel    operator  → canceled
  frozen/system      cancel    partner   → canceled
  frozen/system      cancel    system    → canceled
  frozen/system      expire    app       → ACTOR_NOT_ALLOWED
  frozen/system      expire    operator  → ACTOR_NOT_ALLOWED
  frozen/system      expire    partner   → ACTOR_NOT_ALLOWED
  frozen/system      expire    system    → expired
  canceled           activate  app       → ACTOR_NOT_ALLOWED
  canceled           activate  operator  → ACTOR_NOT_ALLOWED
  canceled           activate  partner   → ACTOR_NOT_ALLOWED
  canceled           activate  system    → CARD_TRANSITION_NOT_ALLOWED
  canceled           freeze    app       → CARD_TRANSITION_NOT_ALLOWED
  canceled           freeze    operator  → CARD_TRANSITION_NOT_ALLOWED
  canceled           freeze    partner   → CARD_TRANSITION_NOT_ALLOWED
  canceled           freeze    system    → CARD_TRANSITION_NOT_ALLOWED
  canceled           unfreeze  app       → CARD_TRANSITION_NOT_ALLOWED
  canceled           unfreeze  operator  → CARD_TRANSITION_NOT_ALLOWED
  canceled           unfreeze  partner   → CARD_TRANSITION_NOT_ALLOWED
  canceled           unfreeze  system    → CARD_TRANSITION_NOT_ALLOWED
  canceled           cancel    app       → CARD_TRANSITION_NOT_ALLOWED
  canceled           cancel    operator  → CARD_TRANSITION_NOT_ALLOWED
  canceled           cancel    partner   → CARD_TRANSITION_NOT_ALLOWED
  canceled           cancel    system    → CARD_TRANSITION_NOT_ALLOWED
  canceled           expire    app       → ACTOR_NOT_ALLOWED
  canceled           expire    operator  → ACTOR_NOT_ALLOWED
  canceled           expire    partner   → ACTOR_NOT_ALLOWED
  canceled           expire    system    → CARD_TRANSITION_NOT_ALLOWED
  expired            activate  app       → ACTOR_NOT_ALLOWED
  expired            activate  operator  → ACTOR_NOT_ALLOWED
  expired            activate  partner   → ACTOR_NOT_ALLOWED
  expired            activate  system    → CARD_TRANSITION_NOT_ALLOWED
  expired            freeze    app       → CARD_TRANSITION_NOT_ALLOWED
  expired            freeze    operator  → CARD_TRANSITION_NOT_ALLOWED
  expired            freeze    partner   → CARD_TRANSITION_NOT_ALLOWED
  expired            freeze    system    → CARD_TRANSITION_NOT_ALLOWED
  expired            unfreeze  app       → CARD_TRANSITION_NOT_ALLOWED
  expired            unfreeze  operator  → CARD_TRANSITION_NOT_ALLOWED
  expired            unfreeze  partner   → CARD_TRANSITION_NOT_ALLOWED
  expired            unfreeze  system    → CARD_TRANSITION_NOT_ALLOWED
  expired            cancel    app       → CARD_TRANSITION_NOT_ALLOWED
  expired            cancel    operator  → CARD_TRANSITION_NOT_ALLOWED
  expired            cancel    partner   → CARD_TRANSITION_NOT_ALLOWED
  expired            cancel    system    → CARD_TRANSITION_NOT_ALLOWED
  expired            expire    app       → ACTOR_NOT_ALLOWED
  expired            expire    operator  → ACTOR_NOT_ALLOWED
  expired            expire    partner   → ACTOR_NOT_ALLOWED
  expired            expire    system    → CARD_TRANSITION_NOT_ALLOWED
`;

const rows = EXPECTED.trim()
  .split('\n')
  .map((line) => {
    const [state, transition, actor, , result] = line.trim().split(/\s+/);
    return { state: state!, transition: transition!, actor: actor!, result: result! };
  });

describe('card state machine', () => {
  it('covers every (state, transition, actor) triple exactly once', () => {
    const states = [
      'pending',
      'active',
      'frozen/app',
      'frozen/operator',
      'frozen/partner',
      'frozen/system',
      'canceled',
      'expired',
    ];
    expect(rows).toHaveLength(states.length * CARD_TRANSITIONS.length * ACTOR_TYPES.length);
    const keys = new Set(rows.map((r) => `${r.state} ${r.transition} ${r.actor}`));
    expect(keys.size).toBe(rows.length);
  });

  it.each(rows)('$state $transition by $actor → $result', ({ state, transition, actor, result }) => {
    const [status, frozenBy] = state.split('/') as [CardStatus, ActorType | undefined];
    const d = decideTransition(
      { status, frozenBy: frozenBy ?? null },
      transition as never,
      actor as ActorType,
    );
    if (/^[A-Z_]+$/.test(result)) {
      expect(d).toMatchObject({ ok: false, code: result });
      if (!d.ok) expect(d.reason.length).toBeGreaterThan(10);
    } else {
      const [to, by] = result.split('/');
      expect(d).toEqual({ ok: true, from: status, to, frozenBy: by ?? null });
    }
  });
});
