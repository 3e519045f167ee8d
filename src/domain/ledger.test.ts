import fc from 'fast-check';
import {
  applyMoneyEvent,
  emptyLedger,
  flagsOf,
  heldOf,
  ops,
  statusOf,
  totals,
  upsert,
  type Ledger,
} from './ledger';
import { maskCardNumbers } from './events';

type MoneyEvent = Parameters<typeof applyMoneyEvent>[1] & { eventId: string };

/** Applies a stream as it comes, every event (the card's dedupe by event id is not the ledger's). */
function applyStream(events: MoneyEvent[]): Ledger {
  let ledger = emptyLedger();
  for (const ev of events) ledger = applyMoneyEvent(ledger, ev, 'USD').ledger;
  return ledger;
}

const canonical = (l: Ledger) =>
  [...l.entries]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((e) => ({ ...e, flags: flagsOf(e), held: heldOf(e), status: statusOf(e) }));

/** The sums an entry is judged by. */
const sums = (l: Ledger) =>
  [...l.entries]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((e) => ({
      id: e.id,
      atMs: e.atMs,
      authorized: e.authorized,
      reversed: e.reversed,
      captured: e.captured,
      refunded: e.refunded,
      cleared: e.cleared,
      expired: e.expired,
      declined: e.declined,
      held: heldOf(e),
    }));

/**
 * An independent model of what a stream of `streamArb` means, read off the events as a set: the
 * partner's advice decides the transaction (approved: its amount plus every adjustment is
 * authorized), the rest are sums or one-way flags, and the hold is what is authorized less
 * reversed unless cleared, expired or declined.
 */
function model(events: MoneyEvent[]): ReturnType<typeof sums> {
  const byTx = new Map<string, MoneyEvent[]>();
  for (const ev of events) {
    const id = ev.kind === 'refund' ? (ev.transactionId ?? `refund:${ev.refundId}`) : ev.transactionId;
    byTx.set(id, [...(byTx.get(id) ?? []), ev]);
  }
  const sumOf = (evs: MoneyEvent[], kind: MoneyEvent['kind']) =>
    evs.reduce((s, e) => s + (e.kind === kind && 'amount' in e ? e.amount : 0), 0);
  return [...byTx.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, evs]) => {
      const advice = evs.find((e) => e.kind === 'authorization.advice');
      const approved = advice?.kind === 'authorization.advice' && advice.approved;
      const m = {
        id,
        atMs: Math.min(...evs.map((e) => e.occurredAtMs)),
        authorized: approved ? advice.amount + sumOf(evs, 'authorization.adjustment') : 0,
        reversed: sumOf(evs, 'authorization.reversal'),
        captured: sumOf(evs, 'clearing'),
        refunded: sumOf(evs, 'refund'),
        cleared: evs.some((e) => e.kind === 'clearing'),
        expired: evs.some((e) => e.kind === 'authorization.expiry'),
        declined: advice !== undefined && !approved,
      };
      const held = m.cleared || m.expired || m.declined ? 0 : Math.max(0, m.authorized - m.reversed);
      return { ...m, held };
    });
}

/** A plausible event stream for a few transactions, in partner order. */
const streamArb: fc.Arbitrary<MoneyEvent[]> = fc
  .array(
    fc.record({
      amount: fc.integer({ min: 1, max: 10_000 }),
      approved: fc.boolean(),
      // Hold changes the partner decided (only on what it approved).
      adjustments: fc.array(fc.integer({ min: 1, max: 3_000 }), { maxLength: 2 }),
      reversal: fc.option(fc.integer({ min: 1, max: 10_000 })),
      clearings: fc.array(fc.integer({ min: 1, max: 12_000 }), { maxLength: 3 }),
      refund: fc.option(fc.integer({ min: 1, max: 5_000 })),
      expires: fc.boolean(),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((txns) => {
    const events: MoneyEvent[] = [];
    let t = Date.parse('2026-11-20T10:00:00Z');
    txns.forEach((x, i) => {
      const id = `txn_${i}`;
      events.push({
        eventId: `${id}:a`,
        kind: 'authorization.advice',
        transactionId: id,
        amount: x.amount,
        currency: 'USD',
        approved: x.approved,
        occurredAtMs: (t += 1000),
      });
      if (x.approved)
        x.adjustments.forEach((a, j) =>
          events.push({
            eventId: `${id}:adj${j}`,
            kind: 'authorization.adjustment',
            transactionId: id,
            amount: a,
            occurredAtMs: (t += 1000),
          }),
        );
      if (x.reversal !== null)
        events.push({
          eventId: `${id}:r`,
          kind: 'authorization.reversal',
          transactionId: id,
          amount: x.reversal,
          occurredAtMs: (t += 1000),
        });
      x.clearings.forEach((c, j) =>
        events.push({
          eventId: `${id}:c${j}`,
          kind: 'clearing',
          transactionId: id,
          amount: c,
          currency: 'USD',
          occurredAtMs: (t += 1000),
        }),
      );
      if (x.refund !== null)
        events.push({
          eventId: `${id}:f`,
          kind: 'refund',
          refundId: `rf_${i}`,
          transactionId: id,
          amount: x.refund,
          currency: 'USD',
          occurredAtMs: (t += 1000),
        });
      if (x.expires)
        events.push({
          eventId: `${id}:x`,
          kind: 'authorization.expiry',
          transactionId: id,
          occurredAtMs: (t += 1000),
        });
    });
    events.push({
      eventId: 'unlinked',
      kind: 'refund',
      refundId: 'rf_u',
      amount: 77,
      currency: 'USD',
      occurredAtMs: (t += 1000),
    });
    return events;
  });

describe('ledger', () => {
  it('ends in the state an independent model gives, for any permutation of a card’s events', () => {
    fc.assert(
      fc.property(
        streamArb.chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
          ),
        ),
        ([ordered, shuffled]) => {
          const expected = model(ordered);
          expect(sums(applyStream(shuffled))).toEqual(expected);
          expect(canonical(applyStream(shuffled))).toEqual(canonical(applyStream(ordered)));
          expect(totals(applyStream(shuffled))).toEqual({
            held: expected.reduce((s, e) => s + e.held, 0),
            captured: expected.reduce((s, e) => s + e.captured, 0),
            refunded: expected.reduce((s, e) => s + e.refunded, 0),
          });
          for (const e of applyStream(shuffled).entries) {
            expect(heldOf(e)).toBeGreaterThanOrEqual(0);
            expect(e.captured).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('takes a repeated partner decision (advice) or expiry as once, in any order; sums count each time', () => {
    // The ledger itself is idempotent only for decisions and one-way flags: a redelivered
    // clearing, reversal, refund or adjustment is kept out by the card, which applies an event id
    // once (workflows/card/partner-events.ts; test/webhooks.ingest.test.ts sends one ten times).
    const idempotent = (e: MoneyEvent) =>
      e.kind === 'authorization.advice' || e.kind === 'authorization.expiry';
    fc.assert(
      fc.property(
        streamArb.chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
            fc.array(fc.nat({ max: events.length - 1 }), { minLength: 1, maxLength: 10 }),
          ),
        ),
        ([ordered, shuffled, dupIdx]) => {
          const withDups = [...shuffled];
          for (const i of dupIdx)
            if (idempotent(ordered[i]!)) withDups.splice(i % (withDups.length + 1), 0, ordered[i]!);
          expect(sums(applyStream(withDups))).toEqual(model(ordered));
        },
      ),
      { numRuns: 500 },
    );
    // A sum applied twice counts twice: the dedupe is not the ledger's.
    const clearing: MoneyEvent = {
      eventId: 'c',
      kind: 'clearing',
      transactionId: 't',
      amount: 500,
      currency: 'USD',
      occurredAtMs: 1,
    };
    expect(totals(applyStream([clearing, clearing])).captured).toBe(1_000);
  });

  it('follows the lifecycle: partial capture releases the rest, over- and force captures are counted and flagged', () => {
    let l = upsert(emptyLedger(), 't1', 1, 'USD', (e) => ops.authorize(e, 10_000)).ledger;
    expect(heldOf(l.entries[0]!)).toBe(10_000);
    l = applyMoneyEvent(
      l,
      { kind: 'clearing', transactionId: 't1', amount: 8_000, currency: 'USD', occurredAtMs: 2 },
      'USD',
    ).ledger;
    expect(l.entries[0]).toMatchObject({ captured: 8_000 });
    expect(heldOf(l.entries[0]!)).toBe(0);
    expect(statusOf(l.entries[0]!)).toBe('closed');
    l = applyMoneyEvent(
      l,
      { kind: 'clearing', transactionId: 't1', amount: 3_000, currency: 'USD', occurredAtMs: 3 },
      'USD',
    ).ledger;
    expect(flagsOf(l.entries[0]!)).toEqual(['over_capture']);
    l = applyMoneyEvent(
      l,
      { kind: 'clearing', transactionId: 't2', amount: 500, currency: 'USD', occurredAtMs: 4 },
      'USD',
    ).ledger;
    expect(flagsOf(l.entries[1]!)).toEqual(['force_capture']);
    expect(totals(l)).toEqual({ held: 0, captured: 11_500, refunded: 0 });
    l = applyMoneyEvent(
      l,
      { kind: 'authorization.reversal', transactionId: 't3', amount: 100, occurredAtMs: 5 },
      'USD',
    ).ledger;
    l = upsert(l, 't3', 5, 'USD', (e) => ops.authorize(e, 300)).ledger;
    expect(heldOf(l.entries[2]!)).toBe(200); // the early reversal applied once the authorization arrived
    l = applyMoneyEvent(
      l,
      { kind: 'authorization.expiry', transactionId: 't3', occurredAtMs: 6 },
      'USD',
    ).ledger;
    expect(heldOf(l.entries[2]!)).toBe(0);
    expect(statusOf(l.entries[2]!)).toBe('expired');
  });

  describe('the partner’s word on an authorization', () => {
    const approve = (l: Ledger, id: string, amount: number) =>
      upsert(l, id, 1, 'USD', (e) => ops.authorize(e, amount)).ledger;
    const decline = (l: Ledger, id: string) =>
      upsert(l, id, 1, 'USD', (e) => ops.decline(e, 'EXCEEDS_SPENDING_LIMIT')).ledger;
    const advice = (l: Ledger, id: string, approved: boolean, amount: number, declineCode?: string) =>
      applyMoneyEvent(
        l,
        {
          kind: 'authorization.advice',
          transactionId: id,
          amount,
          currency: 'USD',
          approved,
          declineCode,
          occurredAtMs: 2,
        },
        'USD',
      ).ledger;
    const entry = (l: Ledger) => l.entries[0]!;

    it('confirms the card’s own decision without adding to it, however often it comes', () => {
      const ours = approve(emptyLedger(), 't', 2_500);
      const confirmed = advice(advice(ours, 't', true, 2_500), 't', true, 2_500);
      expect(entry(confirmed)).toEqual(entry(ours));
      const declined = decline(emptyLedger(), 't');
      expect(entry(advice(declined, 't', false, 2_500, 'webhook_declined'))).toEqual(entry(declined));
    });

    it('holds what the partner approved where the card declined, and flags it', () => {
      const l = advice(decline(emptyLedger(), 't'), 't', true, 2_500);
      expect(entry(l)).toMatchObject({ authorized: 2_500, declined: false, declineCode: null });
      expect(heldOf(entry(l))).toBe(2_500);
      expect(flagsOf(entry(l))).toEqual(['partner_override']);
      expect(entry(advice(l, 't', true, 2_500))).toEqual(entry(l));
    });

    it('releases what the card approved where the partner declined', () => {
      const l = advice(approve(emptyLedger(), 't', 2_500), 't', false, 2_500, 'webhook_timeout');
      expect(heldOf(entry(l))).toBe(0);
      expect(statusOf(entry(l))).toBe('reversed');
      expect(flagsOf(entry(l))).toEqual(['partner_override']);
      expect(entry(advice(l, 't', false, 2_500))).toEqual(entry(l));
    });

    it('holds what the partner approved after a stand-in released the card’s approval', () => {
      let l = approve(emptyLedger(), 't', 2_500);
      l = applyMoneyEvent(
        l,
        {
          kind: 'authorization.stand_in',
          transactionId: 't',
          amount: 2_500,
          currency: 'USD',
          approved: false,
          occurredAtMs: 2,
        },
        'USD',
      ).ledger;
      expect(heldOf(entry(l))).toBe(0);
      l = advice(l, 't', true, 2_500);
      expect(heldOf(entry(l))).toBe(2_500);
      expect(flagsOf(entry(l))).toEqual(['partner_override', 'stand_in_release']);
      expect(entry(advice(l, 't', true, 2_500))).toEqual(entry(l));
    });

    it('takes the larger hold where the partner approved more than the card', () => {
      const l = advice(approve(emptyLedger(), 't', 1_000), 't', true, 1_500);
      expect(heldOf(entry(l))).toBe(1_500);
      expect(flagsOf(entry(l))).toEqual(['partner_override']);
    });

    it('applies a partner’s adjustment like advice, before or after the authorization’s decision', () => {
      const adjust = (l: Ledger, amount: number) =>
        applyMoneyEvent(
          l,
          { kind: 'authorization.adjustment', transactionId: 't', amount, occurredAtMs: 3 },
          'USD',
        ).ledger;
      const after = adjust(advice(emptyLedger(), 't', true, 100), 9_900);
      const before = advice(adjust(emptyLedger(), 9_900), 't', true, 100);
      expect(heldOf(entry(after))).toBe(10_000);
      expect(heldOf(entry(before))).toBe(10_000);
      expect(flagsOf(entry(after))).toEqual(['adjusted', 'advice']);
      // On the card's own approval: held on top of it, whatever the limits (the partner holds it).
      const ours = adjust(approve(emptyLedger(), 't', 100), 9_900);
      expect(heldOf(entry(ours))).toBe(10_000);
      expect(flagsOf(entry(ours))).toEqual(['adjusted']);
    });

    it('flags a transaction for review without moving money', () => {
      const ours = approve(emptyLedger(), 't', 1_000);
      const l = applyMoneyEvent(
        ours,
        {
          kind: 'transaction.review',
          transactionId: 't',
          currency: 'USD',
          occurredAtMs: 5,
        },
        'USD',
      ).ledger;
      expect(totals(l)).toEqual(totals(ours));
      expect(flagsOf(entry(l))).toEqual(['manual_review']);
    });
  });

  it('masks card numbers in text', () => {
    expect(maskCardNumbers('{"number":"4000001234567899","amount":1500}')).toBe(
      '{"number":"************7899","amount":1500}',
    );
    expect(maskCardNumbers('id 12345 and 2026')).toBe('id 12345 and 2026');
  });
});
