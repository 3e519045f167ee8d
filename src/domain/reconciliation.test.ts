import fc from 'fast-check';
import {
  DISCREPANCY_CATEGORIES,
  healingEvents,
  sliceWindow,
  type DiscrepancyCategory,
  type HealableDiscrepancy,
  type TransactionFigures,
} from './reconciliation';

const NOW = Date.UTC(2026, 10, 25, 12);

describe('sliceWindow', () => {
  // Epoch milliseconds up to the year 2096; windows from 1 ms up to ~3 years, or tiny ones where
  // the slice count is bounded by the window's length.
  const from = fc.integer({ min: 0, max: 4_000_000_000_000 });
  const length = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 100_000_000_000 }));
  const n = fc.integer({ min: 1, max: 64 });

  it('cuts [from, to) into contiguous, non-empty slices covering it exactly, at most n of them', () => {
    fc.assert(
      fc.property(from, length, n, (fromMs, len, count) => {
        const toMs = fromMs + len;
        const slices = sliceWindow(fromMs, toMs, count);
        expect(slices.length).toBeGreaterThanOrEqual(1);
        expect(slices.length).toBeLessThanOrEqual(count);
        expect(slices[0]!.fromMs).toBe(fromMs);
        expect(slices[slices.length - 1]!.toMs).toBe(toMs);
        slices.forEach((s, i) => {
          expect(Number.isInteger(s.fromMs) && Number.isInteger(s.toMs)).toBe(true);
          expect(s.toMs).toBeGreaterThan(s.fromMs);
          if (i > 0) expect(s.fromMs).toBe(slices[i - 1]!.toMs);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('gives n slices when the window is at least n ms long, their lengths within 1 ms of each other', () => {
    fc.assert(
      fc.property(from, length, n, (fromMs, len, count) => {
        fc.pre(len >= count);
        const slices = sliceWindow(fromMs, fromMs + len, count);
        expect(slices.length).toBe(count);
        const lengths = slices.map((s) => s.toMs - s.fromMs);
        expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 1_000 },
    );
  });

  it('gives one slice per millisecond when the window is shorter than n', () => {
    expect(sliceWindow(100, 103, 8)).toEqual([
      { fromMs: 100, toMs: 101 },
      { fromMs: 101, toMs: 102 },
      { fromMs: 102, toMs: 103 },
    ]);
  });

  it('gives nothing for an empty or inverted window', () => {
    fc.assert(
      fc.property(from, fc.integer({ min: 0, max: 1_000_000 }), n, (toMs, back, count) => {
        expect(sliceWindow(toMs + back, toMs, count)).toEqual([]);
      }),
    );
  });

  it('treats a count below 1 as one slice', () => {
    expect(sliceWindow(0, 1_000, 0)).toEqual([{ fromMs: 0, toMs: 1_000 }]);
    expect(sliceWindow(0, 1_000, 0.5)).toEqual([{ fromMs: 0, toMs: 1_000 }]);
  });
});

describe('healingEvents', () => {
  const figures = (f: Partial<TransactionFigures> = {}): TransactionFigures => ({
    currency: 'USD',
    authorized: 1_000,
    captured: 0,
    refunded: 0,
    reversed: 0,
    held: 0,
    expired: false,
    ...f,
  });
  const discrepancy = (
    category: DiscrepancyCategory,
    internalValue: Record<string, unknown> | null,
    partnerValue: Record<string, unknown> | null,
    extra: Partial<HealableDiscrepancy> = {},
  ): HealableDiscrepancy => ({
    id: 'dis_01',
    category,
    partner: 'sandbox',
    partnerCardId: 'sbc_1',
    partnerTransactionId: 'sbt_1',
    internalValue,
    partnerValue,
    ...extra,
  });
  const statusMismatch = (ours: string, theirs: string) =>
    discrepancy('card_status_mismatch', { status: ours }, { status: theirs }, { partnerTransactionId: null });
  const tx = (
    category: DiscrepancyCategory,
    ours: Partial<TransactionFigures>,
    theirs: Partial<TransactionFigures>,
  ) =>
    discrepancy(
      category,
      figures(ours) as unknown as Record<string, unknown>,
      figures(theirs) as unknown as Record<string, unknown>,
    );

  describe('card_status_mismatch', () => {
    it.each([
      ['active', 'frozen'],
      ['active', 'canceled'],
      ['frozen', 'canceled'],
    ])('heals ours %s to the partner’s %s (the partner is more restrictive)', (ours, theirs) => {
      expect(healingEvents(statusMismatch(ours, theirs), NOW)).toEqual([
        {
          kind: 'card.status',
          partner: 'sandbox',
          partnerCardId: 'sbc_1',
          eventId: 'recon:dis_01:status',
          occurredAtMs: NOW,
          status: theirs,
          reason: `reconciliation: the partner reports the card ${theirs}`,
        },
      ]);
    });

    it.each([
      ['frozen', 'active'],
      ['canceled', 'active'],
      ['canceled', 'frozen'],
      ['frozen', 'frozen'],
      ['active', 'active'],
    ])('never loosens ours %s to the partner’s %s', (ours, theirs) => {
      expect(healingEvents(statusMismatch(ours, theirs), NOW)).toBeNull();
    });

    it('leaves statuses it does not know to an operator', () => {
      expect(healingEvents(statusMismatch('pending', 'frozen'), NOW)).toBeNull();
      expect(healingEvents(statusMismatch('active', 'lost'), NOW)).toBeNull();
      expect(
        healingEvents(
          discrepancy('card_status_mismatch', null, { status: 'frozen' }, { partnerTransactionId: null }),
          NOW,
        ),
      ).toBeNull();
    });
  });

  describe('stale_hold', () => {
    it('sends the expiry when the partner expired a hold we still hold, at the partner’s time', () => {
      const events = healingEvents(
        tx('stale_hold', { held: 700 }, { held: 0, expired: true, lastAtMs: NOW - 5_000 }),
        NOW,
      );
      expect(events).toEqual([
        {
          kind: 'authorization.expiry',
          partner: 'sandbox',
          partnerCardId: 'sbc_1',
          eventId: 'recon:dis_01:expiry',
          occurredAtMs: NOW - 5_000,
          transactionId: 'sbt_1',
        },
      ]);
    });

    it('falls back to now when the partner gave no time', () => {
      expect(healingEvents(tx('stale_hold', { held: 700 }, { expired: true }), NOW)![0]!.occurredAtMs).toBe(
        NOW,
      );
    });

    it('does nothing unless the partner expired it and we still hold something', () => {
      expect(healingEvents(tx('stale_hold', { held: 700 }, { expired: false }), NOW)).toBeNull();
      expect(healingEvents(tx('stale_hold', { held: 0 }, { expired: true }), NOW)).toBeNull();
      const noTransaction = {
        ...tx('stale_hold', { held: 700 }, { expired: true }),
        partnerTransactionId: null,
      };
      expect(healingEvents(noTransaction, NOW)).toBeNull();
    });
  });

  describe('amount_mismatch', () => {
    it('sends a missed capture for the difference', () => {
      expect(
        healingEvents(tx('amount_mismatch', { captured: 900 }, { captured: 1_000, lastAtMs: NOW - 1 }), NOW),
      ).toEqual([
        {
          kind: 'clearing',
          partner: 'sandbox',
          partnerCardId: 'sbc_1',
          eventId: 'recon:dis_01:clearing',
          occurredAtMs: NOW - 1,
          transactionId: 'sbt_1',
          amount: 100,
          currency: 'USD',
        },
      ]);
    });

    it('sends exactly the missing reversal, capture and refund, each for its difference', () => {
      const events = healingEvents(
        tx(
          'amount_mismatch',
          { captured: 300, refunded: 0, reversed: 100, currency: 'EUR' },
          { captured: 600, refunded: 250, reversed: 400, currency: 'EUR' },
        ),
        NOW,
      );
      expect(events).toEqual([
        expect.objectContaining({
          kind: 'authorization.reversal',
          amount: 300,
          eventId: 'recon:dis_01:reversal',
        }),
        expect.objectContaining({
          kind: 'clearing',
          amount: 300,
          currency: 'EUR',
          eventId: 'recon:dis_01:clearing',
        }),
        expect.objectContaining({
          kind: 'refund',
          amount: 250,
          currency: 'EUR',
          eventId: 'recon:dis_01:refund',
          refundId: 'recon:dis_01',
          transactionId: 'sbt_1',
        }),
      ]);
    });

    it('sends only the kinds that are missing', () => {
      const events = healingEvents(
        tx('amount_mismatch', { captured: 500 }, { captured: 500, refunded: 200 }),
        NOW,
      );
      expect(events!.map((e) => e.kind)).toEqual(['refund']);
    });

    it('leaves it to an operator when the authorizations or currencies differ, or ours exceeds the partner’s', () => {
      const cases: Array<[Partial<TransactionFigures>, Partial<TransactionFigures>]> = [
        [{ authorized: 1_000 }, { authorized: 1_200, captured: 1_200 }],
        [{ currency: 'USD' }, { currency: 'EUR', captured: 100 }],
        [{ captured: 1_000 }, { captured: 900 }],
        [
          { captured: 500, refunded: 300 },
          { captured: 700, refunded: 100 },
        ],
        [{ reversed: 200 }, { reversed: 100, captured: 100 }],
        [{ captured: 400 }, { captured: 400 }],
      ];
      for (const [ours, theirs] of cases)
        expect(healingEvents(tx('amount_mismatch', ours, theirs), NOW)).toBeNull();
    });

    it('heals only when the partner’s figures cover ours, and then sends exactly the differences', () => {
      const figure = fc.integer({ min: 0, max: 100_000 });
      const side = fc.record({ captured: figure, refunded: figure, reversed: figure });
      fc.assert(
        fc.property(side, side, (ours, theirs) => {
          const events = healingEvents(tx('amount_mismatch', ours, theirs), NOW);
          const covers =
            theirs.captured >= ours.captured &&
            theirs.refunded >= ours.refunded &&
            theirs.reversed >= ours.reversed;
          const differs =
            theirs.captured !== ours.captured ||
            theirs.refunded !== ours.refunded ||
            theirs.reversed !== ours.reversed;
          if (!covers || !differs) return expect(events).toBeNull();
          const sent = { captured: 0, refunded: 0, reversed: 0 };
          for (const e of events!) {
            if (e.kind === 'clearing') sent.captured += e.amount;
            else if (e.kind === 'refund') sent.refunded += e.amount;
            else if (e.kind === 'authorization.reversal') sent.reversed += e.amount;
            else throw new Error(`unexpected ${e.kind}`);
            expect(e.amount).toBeGreaterThan(0);
          }
          expect(sent).toEqual({
            captured: theirs.captured - ours.captured,
            refunded: theirs.refunded - ours.refunded,
            reversed: theirs.reversed - ours.reversed,
          });
        }),
        { numRuns: 1_000 },
      );
    });

    it('needs a partner transaction and both sides’ figures', () => {
      const base = tx('amount_mismatch', { captured: 0 }, { captured: 100 });
      expect(healingEvents({ ...base, partnerTransactionId: null }, NOW)).toBeNull();
      expect(healingEvents({ ...base, internalValue: null }, NOW)).toBeNull();
      expect(healingEvents({ ...base, partnerValue: null }, NOW)).toBeNull();
    });
  });

  it('derives event ids from the discrepancy: the same discrepancy heals with the same ids', () => {
    const cases = [
      statusMismatch('active', 'canceled'),
      tx('stale_hold', { held: 10 }, { expired: true }),
      tx('amount_mismatch', { captured: 0 }, { captured: 10, refunded: 5, reversed: 1 }),
    ];
    for (const d of cases) {
      const first = healingEvents(d, NOW)!;
      const again = healingEvents({ ...d }, NOW + 60_000)!;
      expect(again.map((e) => e.eventId)).toEqual(first.map((e) => e.eventId));
      expect(first.every((e) => e.eventId.startsWith(`recon:${d.id}:`))).toBe(true);
      expect(new Set(first.map((e) => e.eventId)).size).toBe(first.length);
      const other = healingEvents({ ...d, id: 'dis_02' }, NOW)!;
      expect(other.map((e) => e.eventId).some((id) => first.some((e) => e.eventId === id))).toBe(false);
    }
  });

  it.each(
    DISCREPANCY_CATEGORIES.filter(
      (c) => !['card_status_mismatch', 'stale_hold', 'amount_mismatch'].includes(c),
    ).map((c) => [c]),
  )('leaves %s to an operator', (category) => {
    // Figures that would heal as an amount mismatch or a stale hold, and statuses that would heal.
    const d = discrepancy(
      category,
      { ...figures({ held: 500, captured: 0 }), status: 'active' },
      { ...figures({ held: 0, captured: 500, expired: true }), status: 'canceled' },
    );
    expect(healingEvents(d, NOW)).toBeNull();
  });
});
