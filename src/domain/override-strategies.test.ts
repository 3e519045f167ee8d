import fc from 'fast-check';
import type { ActorType, CardStatus } from './card-state';
import type { CardControls } from './controls';
import {
  OVERRIDE_STRATEGIES,
  overrideExpiry,
  overrideRefusal,
  type OverrideCardView,
  type OverrideChange,
} from './override-strategies';
import { CARD_ACTION_TYPES, type CardActionType } from './overrides';

const controls: CardControls = {
  spendingLimits: [{ amount: 10_000, interval: 'monthly' }],
  allowedRegions: ['US', 'CA'],
  blockedMccs: ['7995'],
  allowedMccs: [],
  maxAuthorizations: null,
};
const EXPIRES = Date.parse('2027-06-01T00:00:00.000Z');
const card = (
  status: CardStatus | 'new' = 'active',
  frozenBy: ActorType | null = null,
): OverrideCardView => ({
  status,
  frozenBy,
  controls,
  expiresAtMs: EXPIRES,
});

/** A model of carrying out a change on the view (what the workflow's activities do to the card). */
function carryOut(c: OverrideCardView, change: OverrideChange): OverrideCardView {
  switch (change.kind) {
    case 'transition': {
      const to = { freeze: 'frozen', unfreeze: 'active', cancel: 'canceled' } as const;
      return {
        ...c,
        status: to[change.transition],
        frozenBy: change.transition === 'freeze' ? change.actorType! : null,
      };
    }
    case 'controls':
      return { ...c, controls: change.controls };
    case 'expiry':
      return { ...c, expiresAtMs: change.expiresAtMs };
    case 'none':
      return c;
  }
}

const apply = (c: OverrideCardView, type: CardActionType, params: Record<string, unknown> = {}) => {
  const s = OVERRIDE_STRATEGIES[type];
  const after = carryOut(c, s.changeTo(c, s.target(c, params)));
  return { before: s.snapshot(c), after: s.snapshot(after), card: after };
};

describe('override strategies', () => {
  it('cover every card action type', () => {
    expect(Object.keys(OVERRIDE_STRATEGIES).sort()).toEqual([...CARD_ACTION_TYPES].sort());
  });

  it('freeze: the status, frozen by the operator; restored as it was', () => {
    const r = apply(card('active'), 'freeze');
    expect(r.before).toEqual({ status: 'active', frozenBy: null });
    expect(r.after).toEqual({ status: 'frozen', frozenBy: 'operator' });
    expect(OVERRIDE_STRATEGIES.freeze.changeTo(r.card, r.before)).toEqual({
      kind: 'transition',
      transition: 'unfreeze',
    });
  });

  it('unfreeze: restoring an app’s freeze freezes the card as the app (so the app may lift it again)', () => {
    const r = apply(card('frozen', 'app'), 'unfreeze');
    expect(r.after).toEqual({ status: 'active', frozenBy: null });
    expect(OVERRIDE_STRATEGIES.unfreeze.changeTo(r.card, r.before)).toEqual({
      kind: 'transition',
      transition: 'freeze',
      actorType: 'app',
    });
  });

  it('cancel: the card canceled; a snapshot of another status brings no change', () => {
    expect(apply(card('frozen', 'partner'), 'cancel').after).toEqual({ status: 'canceled', frozenBy: null });
    expect(OVERRIDE_STRATEGIES.cancel.changeTo(card(), { status: 'expired', frozenBy: null })).toEqual({
      kind: 'none',
    });
  });

  it('set_spending_limits: replaces the limits, keeps the other controls', () => {
    const limits = [{ amount: 40_000, interval: 'weekly' }];
    const r = apply(card(), 'set_spending_limits', { spendingLimits: limits });
    expect(r.before).toEqual({ spendingLimits: [{ amount: 10_000, interval: 'monthly' }] });
    expect(r.after).toEqual({ spendingLimits: limits });
    expect(r.card.controls).toEqual({ ...controls, spendingLimits: limits });
  });

  it('allow_regions: adds regions to the card’s, once each, in order', () => {
    const r = apply(card(), 'allow_regions', { regions: ['MX', 'US', 'FR'] });
    expect(r.after).toEqual({ allowedRegions: ['US', 'CA', 'MX', 'FR'] });
    expect(r.card.controls!.blockedMccs).toEqual(['7995']);
  });

  it('extend_expiry: the expiry, as an ISO instant', () => {
    const r = apply(card(), 'extend_expiry', { expiresAt: '2028-01-01T12:00:00+02:00' });
    expect(r.before).toEqual({ expiresAt: '2027-06-01T00:00:00.000Z' });
    expect(r.after).toEqual({ expiresAt: '2028-01-01T10:00:00.000Z' });
    expect(r.card.expiresAtMs).toBe(Date.parse('2028-01-01T10:00:00.000Z'));
  });

  it('property: restoring `before` after applying gives the card back as it was', () => {
    const limitsArb = fc.array(
      fc.record({
        amount: fc.integer({ min: 1, max: 1e7 }),
        interval: fc.constantFrom('daily', 'weekly', 'monthly'),
      }),
      { maxLength: 3 },
    );
    fc.assert(
      fc.property(
        limitsArb,
        fc.array(fc.constantFrom('US', 'CA', 'MX', 'FR', 'DE'), { maxLength: 4 }),
        fc.integer({ min: 1, max: 1e10 }),
        (limits, regions, laterBy) => {
          const start = card('active');
          for (const [type, params] of [
            ['set_spending_limits', { spendingLimits: limits }],
            ['allow_regions', { regions }],
            ['extend_expiry', { expiresAt: new Date(EXPIRES + laterBy).toISOString() }],
            ['freeze', {}],
          ] as const) {
            const s = OVERRIDE_STRATEGIES[type];
            const r = apply(start, type, params);
            const restored = carryOut(r.card, s.changeTo(r.card, r.before));
            if (JSON.stringify(s.snapshot(restored)) !== JSON.stringify(r.before)) return false;
          }
          return true;
        },
      ),
    );
  });
});

describe('overrideRefusal', () => {
  const refusal = (
    c: OverrideCardView,
    type: CardActionType,
    params: Record<string, unknown> = {},
    expiresAtMs?: number,
  ) => overrideRefusal(c, { type, params, expiresAtMs })?.code ?? null;

  it('refuses every override of a card not yet issued', () => {
    for (const type of CARD_ACTION_TYPES) expect(refusal(card('new'), type)).toBe('CARD_NOT_ISSUED');
  });

  it('refuses an expiry on an override no timer can undo', () => {
    expect(refusal(card(), 'cancel', {}, EXPIRES)).toBe('OVERRIDE_NOT_REVERSIBLE');
    expect(refusal(card(), 'freeze', {}, EXPIRES)).toBeNull();
  });

  it('takes status overrides through the state machine, as an operator', () => {
    expect(refusal(card('active'), 'freeze')).toBeNull();
    expect(refusal(card('frozen', 'app'), 'freeze')).toBeNull(); // an operator takes over the app's freeze
    expect(refusal(card('frozen', 'operator'), 'freeze')).toBe('CARD_TRANSITION_NOT_ALLOWED');
    expect(refusal(card('frozen', 'partner'), 'unfreeze')).toBeNull();
    expect(refusal(card('active'), 'unfreeze')).toBe('CARD_TRANSITION_NOT_ALLOWED');
    expect(refusal(card('expired'), 'cancel')).toBe('CARD_TRANSITION_NOT_ALLOWED');
    expect(overrideRefusal(card('active'), { type: 'unfreeze', params: {} })?.details).toEqual({
      status: 'active',
      frozenBy: null,
    });
  });

  it('refuses control and expiry changes on a final card', () => {
    for (const type of ['set_spending_limits', 'allow_regions', 'extend_expiry'] as const) {
      expect(overrideRefusal(card('canceled'), { type, params: { expiresAt: '2099-01-01' } })).toEqual({
        code: 'CARD_TRANSITION_NOT_ALLOWED',
        message: 'the card is canceled',
      });
      expect(
        refusal(card('frozen', 'app'), type, { regions: [], spendingLimits: [], expiresAt: '2099-01-01' }),
      ).toBeNull();
    }
  });

  it('refuses an expiry that is not later than the current one', () => {
    expect(refusal(card(), 'extend_expiry', { expiresAt: '2027-06-01T00:00:00.000Z' })).toBe(
      'EXPIRY_NOT_EXTENDED',
    );
    expect(refusal(card(), 'extend_expiry', { expiresAt: '2027-05-01T00:00:00.000Z' })).toBe(
      'EXPIRY_NOT_EXTENDED',
    );
    expect(refusal(card(), 'extend_expiry', { expiresAt: 'not a date' })).toBe('EXPIRY_NOT_EXTENDED');
    expect(refusal(card(), 'extend_expiry', { expiresAt: '2027-06-01T00:00:00.001Z' })).toBeNull();
  });
});

describe('overrideExpiry', () => {
  it('restores what the override replaced while the card is as the override left it', () => {
    const r = apply(card('active'), 'freeze');
    expect(overrideExpiry(r.card, { type: 'freeze', ...r })).toEqual({
      kind: 'restore',
      change: { kind: 'transition', transition: 'unfreeze' },
    });
    const limits = apply(card(), 'set_spending_limits', { spendingLimits: [] });
    expect(overrideExpiry(limits.card, { type: 'set_spending_limits', ...limits })).toEqual({
      kind: 'restore',
      change: { kind: 'controls', controls },
    });
  });

  it('lets the override lapse when the card changed since, or is final', () => {
    const r = apply(card('active'), 'freeze');
    // Someone unfroze it by hand before the override's time was up.
    expect(overrideExpiry(card('active'), { type: 'freeze', ...r })).toEqual({ kind: 'lapse' });
    const limits = apply(card(), 'set_spending_limits', { spendingLimits: [] });
    const changed = {
      ...limits.card,
      controls: { ...controls, spendingLimits: [{ amount: 5, interval: 'daily' as const }] },
    };
    expect(overrideExpiry(changed, { type: 'set_spending_limits', ...limits })).toEqual({ kind: 'lapse' });
    expect(
      overrideExpiry({ ...limits.card, status: 'expired' }, { type: 'set_spending_limits', ...limits }),
    ).toEqual({
      kind: 'lapse',
    });
  });
});
