import fc from 'fast-check';
import type { ActorType, CardStatus } from './card-state';
import { partnerStatusChange, transitionToward, type PartnerStatusView } from './partner-status';

const card = (
  status: CardStatus | 'new',
  frozenBy: ActorType | null = null,
  statusChangedAtMs: number | null = 1_000,
) => ({ status, frozenBy, statusChangedAtMs }) satisfies PartnerStatusView;

describe('a partner card.status event', () => {
  it('older than the card’s last status change is stale', () => {
    expect(partnerStatusChange(card('active'), { status: 'frozen', occurredAtMs: 999 })).toEqual({
      kind: 'stale',
    });
    expect(partnerStatusChange(card('frozen', 'partner'), { status: 'active', occurredAtMs: 10 })).toEqual({
      kind: 'stale',
    });
  });

  it('as old as the last change, or with no change yet, is not stale', () => {
    expect(partnerStatusChange(card('active'), { status: 'frozen', occurredAtMs: 1_000 })).toEqual({
      kind: 'apply',
      transition: 'freeze',
      to: 'frozen',
      frozenBy: 'partner',
      statusChangedAtMs: 1_000,
    });
    expect(partnerStatusChange(card('active', null, null), { status: 'frozen', occurredAtMs: 5 }).kind).toBe(
      'apply',
    );
  });

  it('cancels the card even when it is older than the last change (nothing undoes it at the partner)', () => {
    expect(
      partnerStatusChange(card('frozen', 'operator', 5_000), { status: 'canceled', occurredAtMs: 100 }),
    ).toEqual({
      kind: 'apply',
      transition: 'cancel',
      to: 'canceled',
      frozenBy: null,
      // The card's watermark becomes the event's time, even when that is earlier.
      statusChangedAtMs: 100,
    });
  });

  it('unfreezes a card the partner froze, and may not lift an operator’s freeze', () => {
    expect(partnerStatusChange(card('frozen', 'partner'), { status: 'active', occurredAtMs: 2_000 })).toEqual(
      {
        kind: 'apply',
        transition: 'unfreeze',
        to: 'active',
        frozenBy: null,
        statusChangedAtMs: 2_000,
      },
    );
    expect(
      partnerStatusChange(card('frozen', 'operator'), { status: 'active', occurredAtMs: 2_000 }),
    ).toMatchObject({
      kind: 'refused',
      transition: 'unfreeze',
      code: 'CARD_FROZEN_BY_OPERATOR',
    });
  });

  it('that the card already has raises the watermark (never lowers it)', () => {
    expect(partnerStatusChange(card('frozen', 'app'), { status: 'frozen', occurredAtMs: 3_000 })).toEqual({
      kind: 'unchanged',
      statusChangedAtMs: 3_000,
    });
    expect(partnerStatusChange(card('active', null, null), { status: 'active', occurredAtMs: 40 })).toEqual({
      kind: 'unchanged',
      statusChangedAtMs: 40,
    });
  });

  it('never brings back a canceled card, nor activates one not yet issued', () => {
    expect(partnerStatusChange(card('canceled'), { status: 'active', occurredAtMs: 9_000 })).toEqual({
      kind: 'unchanged',
      statusChangedAtMs: 9_000,
    });
    expect(partnerStatusChange(card('pending'), { status: 'active', occurredAtMs: 9_000 }).kind).toBe(
      'unchanged',
    );
    expect(partnerStatusChange(card('pending'), { status: 'frozen', occurredAtMs: 9_000 })).toMatchObject({
      kind: 'refused',
      code: 'CARD_TRANSITION_NOT_ALLOWED',
    });
    expect(
      partnerStatusChange(card('new', null, null), { status: 'canceled', occurredAtMs: 1 }),
    ).toMatchObject({
      kind: 'refused',
      code: 'CARD_TRANSITION_NOT_ALLOWED',
    });
    expect(partnerStatusChange(card('expired'), { status: 'canceled', occurredAtMs: 9_000 })).toMatchObject({
      kind: 'refused',
    });
  });

  it('an unfreeze delivered before its freeze leaves the card active', () => {
    // The partner froze the card at t=2000 and unfroze it at t=3000; the deliveries come reversed.
    let c = card('active', null, 1_000);
    for (const ev of [
      { status: 'active', occurredAtMs: 3_000 },
      { status: 'frozen', occurredAtMs: 2_000 },
    ] as const) {
      const o = partnerStatusChange(c, ev);
      if (o.kind === 'unchanged') c = { ...c, statusChangedAtMs: o.statusChangedAtMs };
      if (o.kind === 'apply')
        c = { status: o.to, frozenBy: o.frozenBy, statusChangedAtMs: o.statusChangedAtMs };
    }
    expect(c).toEqual({ status: 'active', frozenBy: null, statusChangedAtMs: 3_000 });
  });

  it('maps each wanted status to the transition toward it', () => {
    expect(transitionToward('active', 'frozen')).toBe('freeze');
    expect(transitionToward('frozen', 'frozen')).toBeNull();
    expect(transitionToward('frozen', 'canceled')).toBe('cancel');
    expect(transitionToward('frozen', 'active')).toBe('unfreeze');
    expect(transitionToward('expired', 'active')).toBeNull();
  });

  const statusArb = fc.constantFrom<CardStatus>('pending', 'active', 'frozen', 'canceled', 'expired');
  const cardArb = fc.record({
    status: statusArb,
    frozenBy: fc.constantFrom<ActorType | null>(null, 'app', 'operator', 'partner', 'system'),
    statusChangedAtMs: fc.option(fc.nat({ max: 10_000 })),
  });
  const eventArb = fc.record({
    status: fc.constantFrom('active' as const, 'frozen' as const, 'canceled' as const),
    occurredAtMs: fc.nat({ max: 10_000 }),
  });

  it('property: only a cancellation is applied when older than the watermark', () => {
    fc.assert(
      fc.property(cardArb, eventArb, (c, ev) => {
        const o = partnerStatusChange(c, ev);
        const older = c.statusChangedAtMs !== null && ev.occurredAtMs < c.statusChangedAtMs;
        if (older && ev.status !== 'canceled') return o.kind === 'stale';
        return o.kind !== 'stale';
      }),
    );
  });

  it('property: a cancellation of a card that is not final always cancels it', () => {
    fc.assert(
      fc.property(cardArb, fc.nat({ max: 10_000 }), (c, at) => {
        fc.pre(c.status !== 'canceled' && c.status !== 'expired');
        const o = partnerStatusChange(c, { status: 'canceled', occurredAtMs: at });
        return o.kind === 'apply' && o.to === 'canceled' && o.statusChangedAtMs === at;
      }),
    );
  });

  it('property: the watermark never falls except by an applied change', () => {
    fc.assert(
      fc.property(cardArb, eventArb, (c, ev) => {
        const o = partnerStatusChange(c, ev);
        return o.kind !== 'unchanged' || o.statusChangedAtMs >= (c.statusChangedAtMs ?? 0);
      }),
    );
  });
});
