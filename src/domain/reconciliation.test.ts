import fc from 'fast-check';
import { MAX_AMOUNT } from './money';
import {
  DISCREPANCY_CATEGORIES,
  healingEvents,
  partnerRecordEventId,
  sliceWindow,
  type EvidenceRecord,
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

  let seq = 0;
  const record = (type: string, amount: number, o: Partial<EvidenceRecord> = {}): EvidenceRecord => {
    seq += 1;
    return {
      id: `sbx_${seq}`,
      type,
      amount,
      currency: 'USD',
      eventId: `evt_${seq}`,
      occurredAt: new Date(NOW - 10_000 + seq).toISOString(),
      ...o,
    };
  };
  /**
   * A transaction both sides know: the partner's records, the ones our books applied, and each
   * side's figures as the comparison derives them from those.
   */
  const books = (
    records: EvidenceRecord[],
    applied: EvidenceRecord[],
    o: {
      category?: DiscrepancyCategory;
      ours?: Partial<TransactionFigures>;
      theirs?: Partial<TransactionFigures>;
    } = {},
  ) => {
    const sum = (rs: EvidenceRecord[], type: string) =>
      rs.filter((r) => r.type === type).reduce((a, r) => a + r.amount, 0);
    const of = (rs: EvidenceRecord[]) =>
      figures({
        captured: sum(rs, 'clearing'),
        refunded: sum(rs, 'refund'),
        reversed: sum(rs, 'reversal'),
        expired: rs.some((r) => r.type === 'expiry'),
      });
    return discrepancy(
      o.category ?? 'amount_mismatch',
      { ...of(applied), ...o.ours } as unknown as Record<string, unknown>,
      { ...of(records), ...o.theirs } as unknown as Record<string, unknown>,
      {
        evidence: {
          partnerRecords: records,
          transactionEvents: applied.map((r) => ({ eventKey: `sandbox:${partnerRecordEventId(r)}` })),
        },
      },
    );
  };

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
    const auth = record('authorization', 1_000);
    it('sends the partner’s expiry record, with its event id and at its time', () => {
      const expiry = record('expiry', 0);
      const d = books([auth, expiry], [auth], { category: 'stale_hold', ours: { held: 700 } });
      expect(healingEvents(d, NOW)).toEqual([
        {
          kind: 'authorization.expiry',
          partner: 'sandbox',
          partnerCardId: 'sbc_1',
          eventId: expiry.eventId,
          occurredAtMs: Date.parse(expiry.occurredAt!),
          transactionId: 'sbt_1',
        },
      ]);
    });

    it('does nothing unless the partner expired it, we still hold something and never applied the expiry', () => {
      const expiry = record('expiry', 0);
      expect(
        healingEvents(books([auth], [auth], { category: 'stale_hold', ours: { held: 700 } }), NOW),
      ).toBeNull();
      expect(
        healingEvents(books([auth, expiry], [auth], { category: 'stale_hold', ours: { held: 0 } }), NOW),
      ).toBeNull();
      expect(
        healingEvents(
          books([auth, expiry], [auth, expiry], { category: 'stale_hold', ours: { held: 700 } }),
          NOW,
        ),
      ).toBeNull();
      const noTransaction = {
        ...books([auth, expiry], [auth], { category: 'stale_hold', ours: { held: 700 } }),
        partnerTransactionId: null,
      };
      expect(healingEvents(noTransaction, NOW)).toBeNull();
    });
  });

  describe('amount_mismatch', () => {
    const auth = record('authorization', 1_000);

    it('sends the capture we missed, carrying the partner’s own event id', () => {
      const first = record('clearing', 900);
      const second = record('clearing', 100);
      expect(healingEvents(books([auth, first, second], [auth, first]), NOW)).toEqual([
        {
          kind: 'clearing',
          partner: 'sandbox',
          partnerCardId: 'sbc_1',
          eventId: second.eventId,
          occurredAtMs: Date.parse(second.occurredAt!),
          transactionId: 'sbt_1',
          amount: 100,
          currency: 'USD',
        },
      ]);
    });

    it('books no amount above the platform’s maximum: an operator looks at it', () => {
      const huge = record('clearing', MAX_AMOUNT + 1);
      expect(healingEvents(books([auth, huge], [auth]), NOW)).toBeNull();
      const max = record('clearing', MAX_AMOUNT);
      expect(healingEvents(books([auth, max], [auth]), NOW)?.map((e) => e.eventId)).toEqual([max.eventId]);
    });

    it('names a record the partner never announced by the record itself', () => {
      const silent = record('clearing', 400, { eventId: null });
      const events = healingEvents(books([auth, silent], [auth]), NOW)!;
      expect(events.map((e) => e.eventId)).toEqual([`partner-record:${silent.id}`]);
    });

    it('sends each missing reversal, capture and refund, in that order', () => {
      const eur = { currency: 'EUR' };
      const applied = [auth, record('clearing', 300, eur), record('reversal', 100, eur)];
      const missed = [record('reversal', 300, eur), record('clearing', 300, eur), record('refund', 250, eur)];
      const d = books([...applied, ...missed], applied, { ours: eur, theirs: eur });
      expect(healingEvents(d, NOW)).toEqual([
        expect.objectContaining({ kind: 'authorization.reversal', amount: 300, eventId: missed[0]!.eventId }),
        expect.objectContaining({
          kind: 'clearing',
          amount: 300,
          currency: 'EUR',
          eventId: missed[1]!.eventId,
        }),
        expect.objectContaining({
          kind: 'refund',
          amount: 250,
          currency: 'EUR',
          eventId: missed[2]!.eventId,
          refundId: missed[2]!.id,
          transactionId: 'sbt_1',
        }),
      ]);
    });

    it('leaves it to an operator when the authorizations or currencies differ, or ours exceeds the partner’s', () => {
      const c = record('clearing', 500);
      const r = record('refund', 100);
      const cases = [
        books([auth, c], [auth], { ours: { authorized: 1_000 }, theirs: { authorized: 1_200 } }),
        books([auth, c], [auth], { theirs: { currency: 'EUR' } }),
        books([auth, c], [auth, c], { ours: { captured: 600 } }),
        books([auth, c, r], [auth, c], { ours: { refunded: 300 } }),
        books([auth, c], [auth, c]),
      ];
      for (const d of cases) expect(healingEvents(d, NOW)).toBeNull();
    });

    it('leaves it to an operator when the records we never applied are not the whole difference', () => {
      // Our books have 100 more captured than the partner's applied records explain (another source).
      const c = record('clearing', 500);
      expect(healingEvents(books([auth, c], [auth], { ours: { captured: 100 } }), NOW)).toBeNull();
      // The evidence is missing: nothing to name the fix by.
      const d = books([auth, c], [auth]);
      expect(healingEvents({ ...d, evidence: null }, NOW)).toBeNull();
    });

    it('corrects a record we applied for less than the partner booked, by the difference', () => {
      const booked = record('clearing', 1_000);
      const d = books([auth, booked], [auth, { ...booked, amount: 900 }]);
      expect(healingEvents(d, NOW)).toEqual([
        expect.objectContaining({ kind: 'clearing', amount: 100, eventId: 'recon:dis_01:clearing' }),
      ]);
    });

    it('sends each record our books never applied under its own id, and corrects only what we applied short', () => {
      const rec = fc.record({
        type: fc.constantFrom('clearing', 'refund', 'reversal'),
        amount: fc.integer({ min: 1, max: 50_000 }),
        // never applied, applied as booked, or applied for less (the webhook said less)
        applied: fc.constantFrom('no', 'yes', 'short'),
        short: fc.integer({ min: 1, max: 50_000 }),
        announced: fc.boolean(),
      });
      const KIND = { clearing: 'clearing', refund: 'refund', reversal: 'authorization.reversal' } as const;
      fc.assert(
        fc.property(fc.array(rec, { maxLength: 8 }), (rows) => {
          const records = rows.map((r) => record(r.type, r.amount, r.announced ? {} : { eventId: null }));
          const applied = [
            auth,
            ...records.flatMap((r, i) =>
              rows[i]!.applied === 'no'
                ? []
                : rows[i]!.applied === 'yes'
                  ? [r]
                  : [{ ...r, amount: Math.max(0, r.amount - rows[i]!.short) }],
            ),
          ];
          const events = healingEvents(books([auth, ...records], applied), NOW) ?? [];
          const missed = records.filter((_, i) => rows[i]!.applied === 'no');
          // Every record never applied, under the partner's id and for its amount …
          for (const r of missed)
            expect(events).toContainEqual(
              expect.objectContaining({
                eventId: partnerRecordEventId(r),
                kind: KIND[r.type as keyof typeof KIND],
                amount: r.amount,
              }),
            );
          // … and per kind, one correction of exactly what the applied records fell short by.
          for (const type of ['clearing', 'refund', 'reversal'] as const) {
            const short = records.reduce(
              (sum, r, i) =>
                r.type === type && rows[i]!.applied === 'short'
                  ? sum + Math.min(r.amount, rows[i]!.short)
                  : sum,
              0,
            );
            const corrections = events.filter((e) => e.eventId === `recon:dis_01:${type}`);
            expect(corrections.map((e) => (e as { amount: number }).amount)).toEqual(short ? [short] : []);
          }
          expect(events).toHaveLength(
            missed.length + events.filter((e) => e.eventId.startsWith('recon:')).length,
          );
        }),
        { numRuns: 500 },
      );
    });

    it('needs a partner transaction and both sides’ figures', () => {
      const base = books([auth, record('clearing', 100)], [auth]);
      expect(healingEvents({ ...base, partnerTransactionId: null }, NOW)).toBeNull();
      expect(healingEvents({ ...base, internalValue: null }, NOW)).toBeNull();
      expect(healingEvents({ ...base, partnerValue: null }, NOW)).toBeNull();
    });
  });

  it('names the same fix the same way however often it is healed', () => {
    const auth = record('authorization', 1_000);
    const cases = [
      statusMismatch('active', 'canceled'),
      books([auth, record('expiry', 0)], [auth], { category: 'stale_hold', ours: { held: 10 } }),
      books([auth, record('clearing', 10), record('refund', 5), record('reversal', 1)], [auth]),
    ];
    for (const d of cases) {
      const first = healingEvents(d, NOW)!;
      const again = healingEvents({ ...d }, NOW + 60_000)!;
      expect(again.map((e) => e.eventId)).toEqual(first.map((e) => e.eventId));
      expect(new Set(first.map((e) => e.eventId)).size).toBe(first.length);
    }
  });

  it.each(
    DISCREPANCY_CATEGORIES.filter(
      (c) => !['card_status_mismatch', 'stale_hold', 'amount_mismatch'].includes(c),
    ).map((c) => [c]),
  )('leaves %s to an operator', (category) => {
    // Records and statuses that would heal as an amount mismatch, a stale hold or a status change.
    const auth = record('authorization', 1_000);
    const d = books([auth, record('clearing', 500), record('expiry', 0)], [auth], {
      category,
      ours: { held: 500, status: 'active' } as Partial<TransactionFigures>,
      theirs: { status: 'canceled' } as Partial<TransactionFigures>,
    });
    expect(healingEvents(d, NOW)).toBeNull();
  });
});
