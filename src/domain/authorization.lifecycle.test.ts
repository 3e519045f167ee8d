import fc from 'fast-check';
import {
  decideIncrement,
  decideRequest,
  type CardForDecision,
  type ProgramForDecision,
} from './authorization';
import {
  applyMoneyEvent,
  emptyLedger,
  heldOf,
  ops,
  totals,
  usageIn,
  userSpendOf,
  type Ledger,
} from './ledger';
import { DEFAULT_POLICY, resolveControls } from './policy';

const NOW = Date.UTC(2026, 10, 25, 12);
const program: ProgramForDecision = { regions: [], blockedMccs: [], timeZone: 'UTC', weekStartsOn: 'monday' };
const merchant = { name: 'Shop', mcc: '5411', country: 'US', region: 'US-CA' };
const LIMIT = 50_000;
const card = (approvals = 0, maxAuthorizations: number | null = null): CardForDecision => ({
  status: 'active',
  currency: 'USD',
  controls: {
    ...resolveControls({ spendingLimits: [{ amount: LIMIT, interval: 'all_time' }] }, DEFAULT_POLICY),
    maxAuthorizations,
  },
  expiresAtMs: NOW + 365 * 86_400_000,
  approvals,
});

type Op =
  | { op: 'request'; amount: number }
  | { op: 'increment'; tx: number; amount: number }
  | { op: 'capture'; tx: number; amount: number }
  | { op: 'reverse'; tx: number; amount: number }
  | { op: 'expire'; tx: number }
  | { op: 'refund'; tx: number; amount: number };

const amount = fc.integer({ min: 1, max: 20_000 });
const tx = fc.integer({ min: 0, max: 7 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: amount.map((a) => ({ op: 'request' as const, amount: a })) },
  fc.record({ op: fc.constant('increment' as const), tx, amount }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('capture' as const), tx, amount }) },
  fc.record({ op: fc.constant('reverse' as const), tx, amount }),
  fc.record({ op: fc.constant('expire' as const), tx }),
  fc.record({ op: fc.constant('refund' as const), tx, amount }),
);

const spent = (l: Ledger): number => {
  const u = usageIn(l, 'all_time', { nowMs: NOW, timeZone: 'UTC', weekStartsOn: 'monday' });
  return u.captured + u.held - u.refunded;
};

/** Plays the operations the way the card workflow does (requests decided, the rest applied). */
function play(
  opsList: Op[],
  check?: (l: Ledger, approvedNow: boolean) => void,
): { ledger: Ledger; approvals: number } {
  let ledger = emptyLedger();
  let approvals = 0;
  let n = 0;
  for (const o of opsList) {
    const id = (i: number) => `t${i}`;
    let approvedNow = false;
    if (o.op === 'request') {
      const r = decideRequest(
        card(approvals),
        program,
        ledger,
        { transactionId: id(n++), amount: o.amount, currency: 'USD', merchant, occurredAtMs: NOW },
        NOW,
      );
      ledger = r.next.ledger;
      if (r.decision.approved) {
        approvals++;
        approvedNow = true;
      }
    } else if (o.op === 'increment') {
      const r = decideIncrement(
        card(approvals),
        program,
        ledger,
        { transactionId: id(o.tx), amount: o.amount, occurredAtMs: NOW },
        NOW,
      );
      ledger = r.next.ledger;
      approvedNow = r.decision.approved;
    } else {
      const base = { transactionId: id(o.tx), occurredAtMs: NOW };
      const ev =
        o.op === 'capture'
          ? { ...base, kind: 'clearing' as const, amount: o.amount, currency: 'USD' }
          : o.op === 'reverse'
            ? { ...base, kind: 'authorization.reversal' as const, amount: o.amount }
            : o.op === 'expire'
              ? { ...base, kind: 'authorization.expiry' as const }
              : { ...base, kind: 'refund' as const, refundId: `r${n}`, amount: o.amount, currency: 'USD' };
      ledger = applyMoneyEvent(ledger, ev, 'USD').ledger;
    }
    check?.(ledger, approvedNow);
  }
  return { ledger, approvals };
}

/**
 * An independent model of the card's books under the same operations: one record of sums per
 * transaction, approvals while the all_time spend (held + captured − refunded) leaves room, an
 * increment only on an authorization still holding.
 */
interface ModelTx {
  authorized: number;
  reversed: number;
  captured: number;
  refunded: number;
  cleared: boolean;
  expired: boolean;
  declined: boolean;
}
class BooksModel {
  readonly txs = new Map<string, ModelTx>();
  private n = 0;

  private tx(id: string): ModelTx {
    let t = this.txs.get(id);
    if (!t) {
      t = {
        authorized: 0,
        reversed: 0,
        captured: 0,
        refunded: 0,
        cleared: false,
        expired: false,
        declined: false,
      };
      this.txs.set(id, t);
    }
    return t;
  }

  static held(t: ModelTx): number {
    return t.cleared || t.expired || t.declined ? 0 : Math.max(0, t.authorized - t.reversed);
  }

  spent(): number {
    let s = 0;
    for (const t of this.txs.values()) s += BooksModel.held(t) + t.captured - t.refunded;
    return s;
  }

  /** Plays one operation; returns whether the card should have approved it (requests, increments). */
  play(o: Op): boolean {
    if (o.op === 'request') {
      const fits = this.spent() + o.amount <= LIMIT;
      const t = this.tx(`t${this.n++}`);
      if (fits) t.authorized += o.amount;
      else if (t.authorized === 0) t.declined = true;
      return fits;
    }
    const t = this.tx(`t${o.tx}`);
    if (o.op === 'increment') {
      const fits = t.authorized > 0 && BooksModel.held(t) > 0 && this.spent() + o.amount <= LIMIT;
      if (fits) t.authorized += o.amount;
      return fits;
    }
    if (o.op === 'capture') {
      t.captured += o.amount;
      t.cleared = true;
    } else if (o.op === 'reverse') t.reversed += o.amount;
    else if (o.op === 'expire') t.expired = true;
    else t.refunded += o.amount;
    return false;
  }
}

describe('the authorization lifecycle (property-based)', () => {
  it('keeps the balance identity, never lets our own approvals overspend, and matches an independent model of the books', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (opsList) => {
        let spentBefore = 0;
        const books = new BooksModel();
        let step = 0;
        const first = play(opsList, (l, approvedNow) => {
          // The decision is the model's, and so is every transaction's state after it.
          const o = opsList[step++]!;
          expect(approvedNow).toBe(books.play(o));
          const byId = new Map(l.entries.map((e) => [e.id, e]));
          expect([...byId.keys()].sort()).toEqual([...books.txs.keys()].sort());
          for (const [id, t] of books.txs) {
            const e = byId.get(id)!;
            expect({
              authorized: e.authorized,
              reversed: e.reversed,
              captured: e.captured,
              refunded: e.refunded,
              cleared: e.cleared,
              expired: e.expired,
              declined: e.declined,
            }).toEqual(t);
            expect(heldOf(e)).toBe(BooksModel.held(t));
          }
          expect(spent(l)).toBe(books.spent());
          // The identity: what a window has used is captured + held − refunded, entry by entry.
          const t = totals(l);
          const byEntry = l.entries.reduce((s, e) => s + userSpendOf(e), 0);
          expect(t.captured + t.held - t.refunded).toBe(byEntry);
          for (const e of l.entries) expect(heldOf(e)).toBeGreaterThanOrEqual(0);
          // An approval of ours never takes the card past its limit (partners' captures may).
          if (approvedNow) expect(spent(l)).toBeLessThanOrEqual(Math.max(LIMIT, spentBefore));
          spentBefore = spent(l);
        });
        expect(step).toBe(opsList.length);
        // Deterministic: the same operations give the same books.
        expect(play(opsList)).toEqual(first);
      }),
      { numRuns: 300 },
    );
  });
});

describe('increments and stand-ins', () => {
  const approved = () =>
    decideRequest(
      card(),
      program,
      emptyLedger(),
      { transactionId: 'a', amount: 10_000, currency: 'USD', merchant, occurredAtMs: NOW },
      NOW,
    ).next.ledger;

  it('grows a holding authorization, within the limits, and refuses one that no longer holds', () => {
    const grown = decideIncrement(
      card(1),
      program,
      approved(),
      { transactionId: 'a', amount: 5_000, occurredAtMs: NOW },
      NOW,
    );
    expect(grown.decision.approved).toBe(true);
    expect(heldOf(grown.next.entry)).toBe(15_000);
    const tooMuch = decideIncrement(
      card(1),
      program,
      approved(),
      { transactionId: 'a', amount: 45_000, occurredAtMs: NOW },
      NOW,
    );
    expect(tooMuch.decision).toMatchObject({ approved: false, declineCode: 'EXCEEDS_SPENDING_LIMIT' });
    const settled = applyMoneyEvent(
      approved(),
      { kind: 'clearing', transactionId: 'a', amount: 10_000, currency: 'USD', occurredAtMs: NOW },
      'USD',
    ).ledger;
    const late = decideIncrement(
      card(1),
      program,
      settled,
      { transactionId: 'a', amount: 1, occurredAtMs: NOW },
      NOW,
    );
    expect(late.decision).toMatchObject({ approved: false, declineCode: 'CARD_NOT_ACTIVE' });
    // An increment does not count as an authorization against maxAuthorizations.
    const capped = decideIncrement(
      card(1, 1),
      program,
      approved(),
      { transactionId: 'a', amount: 1, occurredAtMs: NOW },
      NOW,
    );
    expect(capped.decision.approved).toBe(true);
  });

  it('makes the books show what the partner acted on, whichever came first', () => {
    const standInApprove = (l: Ledger) =>
      applyMoneyEvent(
        l,
        {
          kind: 'authorization.stand_in',
          transactionId: 'a',
          amount: 10_000,
          currency: 'USD',
          approved: true,
          occurredAtMs: NOW,
        },
        'USD',
      ).entry;
    const standInDecline = (l: Ledger) =>
      applyMoneyEvent(
        l,
        {
          kind: 'authorization.stand_in',
          transactionId: 'a',
          amount: 10_000,
          currency: 'USD',
          approved: false,
          occurredAtMs: NOW,
        },
        'USD',
      ).entry;
    // Stand-in approved, the card had approved too (late): one hold, not two.
    expect(heldOf(standInApprove(approved()))).toBe(10_000);
    // Stand-in approved, the card had declined: held now, flagged.
    const declined = decideRequest(
      card(0, 0),
      program,
      emptyLedger(),
      { transactionId: 'a', amount: 10_000, currency: 'USD', merchant, occurredAtMs: NOW },
      NOW,
    ).next.ledger;
    const e = standInApprove(declined);
    expect(heldOf(e)).toBe(10_000);
    expect(e.flags).toContain('stand_in');
    // Stand-in declined, the card had approved (late): the hold is released.
    const released = standInDecline(approved());
    expect(heldOf(released)).toBe(0);
    expect(released.flags).toContain('stand_in_release');
    // Stand-in first, nothing decided by the card: as the stand-in says.
    expect(heldOf(standInApprove(emptyLedger()))).toBe(10_000);
    expect(standInDecline(emptyLedger())).toMatchObject({ declined: true, declineCode: 'STAND_IN' });
  });

  it('counts a transaction against its user as held + captured − refunded', () => {
    let e = approved().entries[0]!;
    expect(userSpendOf(e)).toBe(10_000);
    e = ops.clear(e, 7_000);
    expect(userSpendOf(e)).toBe(7_000);
    e = ops.refund(e, 2_000);
    expect(userSpendOf(e)).toBe(5_000);
  });
});
