import fc from 'fast-check';
import { decideAuthorization, type CardForDecision, type ProgramForDecision } from './authorization';
import { spentIn } from './balances';
import type { SpendingLimit } from './controls';
import { availableFor, emptyLedger, heldOf, ops, upsert, usageIn, type Ledger } from './ledger';

const hold = (l: Ledger, id: string, amount: number, atMs: number): Ledger =>
  upsert(l, id, atMs, 'USD', (e) => ops.authorize(e, amount)).ledger;
import { SPENDING_INTERVALS, windowStart, type SpendingInterval, type Weekday } from './time-windows';

const T0 = Date.parse('2026-11-20T12:00:00Z');
const program: ProgramForDecision = {
  regions: ['US'],
  blockedMccs: ['7995'],
  timeZone: 'America/New_York',
  weekStartsOn: 'monday',
};
const card = (over: Partial<CardForDecision> = {}): CardForDecision => ({
  status: 'active',
  currency: 'USD',
  controls: {
    spendingLimits: [{ amount: 10_000, interval: 'all_time' }],
    allowedRegions: ['US'],
    blockedMccs: [],
    allowedMccs: [],
    maxAuthorizations: null,
  },
  expiresAtMs: T0 + 365 * 86_400_000,
  approvals: 0,
  ...over,
});
const req = (amount: number, over: Record<string, unknown> = {}) => ({
  amount,
  currency: 'USD',
  merchant: { name: 'Shop', mcc: '5411', country: 'US', region: 'US-CA' },
  atMs: T0,
  ...over,
});

describe('authorization decision', () => {
  it('approves within every control', () => {
    expect(decideAuthorization(card(), program, emptyLedger(), req(5_000))).toEqual({ approved: true });
  });

  it('declines with the first code that applies', () => {
    const code = (c: CardForDecision, r = req(100), l: Ledger = emptyLedger()) => {
      const d = decideAuthorization(c, program, l, r);
      return d.approved ? 'APPROVED' : d.declineCode;
    };
    expect(code(card({ status: 'frozen' }))).toBe('CARD_NOT_ACTIVE');
    expect(code(card({ status: 'pending' }))).toBe('CARD_NOT_ACTIVE');
    expect(code(card({ expiresAtMs: T0 }))).toBe('CARD_EXPIRED');
    expect(code(card(), req(100, { currency: 'EUR' }))).toBe('CURRENCY_MISMATCH');
    expect(code(card(), req(100, { merchant: { mcc: '5411', country: 'CA' } }))).toBe('REGION_NOT_ALLOWED');
    const caOnly = card({ controls: { ...card().controls, allowedRegions: ['US-CA'] } });
    expect(code(caOnly, req(100, { merchant: { mcc: '5411', country: 'US', region: 'US-CA' } }))).toBe(
      'APPROVED',
    );
    expect(code(caOnly, req(100, { merchant: { mcc: '5411', country: 'US', region: 'US-NY' } }))).toBe(
      'REGION_NOT_ALLOWED',
    );
    // A US-CA rule needs the merchant's subdivision: a merchant known only as "US" is declined.
    expect(code(caOnly, req(100, { merchant: { mcc: '5411', country: 'US' } }))).toBe('REGION_NOT_ALLOWED');
    expect(code(card(), req(100, { merchant: { mcc: '7995', country: 'US' } }))).toBe('MCC_BLOCKED');
    expect(code(card({ controls: { ...card().controls, blockedMccs: ['5411'] } }))).toBe('MCC_BLOCKED');
    expect(code(card({ controls: { ...card().controls, allowedMccs: ['5812'] } }))).toBe('MCC_BLOCKED');
    expect(code(card({ controls: { ...card().controls, maxAuthorizations: 1 }, approvals: 1 }))).toBe(
      'MAX_AUTHORIZATIONS_REACHED',
    );
    expect(code(card({ controls: { ...card().controls, maxAuthorizations: 3 }, approvals: 2 }))).toBe(
      'APPROVED',
    );
    const perAuth = card({
      controls: { ...card().controls, spendingLimits: [{ amount: 500, interval: 'per_authorization' }] },
    });
    expect(code(perAuth, req(501))).toBe('EXCEEDS_PER_AUTHORIZATION_LIMIT');
    expect(code(perAuth, req(500))).toBe('APPROVED');
    expect(code(card(), req(10_001))).toBe('EXCEEDS_SPENDING_LIMIT');
    expect(code(card(), req(4_000), hold(emptyLedger(), 'a', 6_001, T0))).toBe('EXCEEDS_SPENDING_LIMIT');
    expect(code(card(), req(4_000), hold(emptyLedger(), 'a', 6_000, T0))).toBe('APPROVED');
  });

  it('counts a purchase one second before the week starts in last week, one second after in this week', () => {
    // Monday 2026-11-23 00:00 America/New_York = 05:00Z.
    const boundary = Date.parse('2026-11-23T05:00:00Z');
    const weekly = card({
      controls: { ...card().controls, spendingLimits: [{ amount: 1_000, interval: 'weekly' }] },
    });
    const before = hold(emptyLedger(), 'a', 1_000, boundary - 1000);
    expect(decideAuthorization(weekly, program, before, req(1, { atMs: boundary - 500 }))).toMatchObject({
      approved: false,
    });
    expect(decideAuthorization(weekly, program, before, req(1_000, { atMs: boundary + 1000 }))).toEqual({
      approved: true,
    });
    const after = hold(emptyLedger(), 'b', 1_000, boundary + 1000);
    expect(decideAuthorization(weekly, program, after, req(1, { atMs: boundary + 2000 }))).toMatchObject({
      approved: false,
    });
  });

  it('counts windows across a DST change by local midnight', () => {
    // Week of Monday 2026-03-02 (EST) contains the 2026-03-08 spring-forward; next week starts 03-09 04:00Z (EDT).
    const nextWeek = Date.parse('2026-03-09T04:00:00Z');
    const weekly = card({
      controls: { ...card().controls, spendingLimits: [{ amount: 1_000, interval: 'weekly' }] },
      expiresAtMs: nextWeek + 1e9,
    });
    const l = hold(emptyLedger(), 'a', 1_000, nextWeek - 1000);
    expect(decideAuthorization(weekly, program, l, req(1, { atMs: nextWeek - 1 }))).toMatchObject({
      declineCode: 'EXCEEDS_SPENDING_LIMIT',
    });
    expect(decideAuthorization(weekly, program, l, req(1_000, { atMs: nextWeek + 1000 }))).toEqual({
      approved: true,
    });
  });
});

type Op =
  | { kind: 'purchase'; amount: number; advanceMs: number }
  | { kind: 'reverse'; pick: number; amount: number }
  | { kind: 'capture'; pick: number; fraction: number }
  | { kind: 'refund'; pick: number; fraction: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('purchase' as const),
      amount: fc.integer({ min: 1, max: 40_000 }),
      advanceMs: fc.integer({ min: 0, max: 3 * 86_400_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reverse' as const),
      pick: fc.nat(),
      amount: fc.integer({ min: 1, max: 40_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('capture' as const),
      pick: fc.nat(),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('refund' as const),
      pick: fc.nat(),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

const limitsArb: fc.Arbitrary<SpendingLimit[]> = fc
  .subarray([...SPENDING_INTERVALS], { minLength: 1 })
  .chain((intervals) =>
    fc.tuple(
      ...intervals.map((interval) =>
        fc.integer({ min: 1, max: 100_000 }).map((amount) => ({ amount, interval })),
      ),
    ),
  );

/**
 * An independent model of the books for the property below: per transaction what was held,
 * reversed, captured and refunded, and a window's spend as held + captured − refunded of the
 * transactions made in it. Window starts come from time-windows.ts (tested on their own).
 */
interface ModelTx {
  id: string;
  atMs: number;
  authorized: number;
  reversed: number;
  captured: number;
  refunded: number;
  cleared: boolean;
}
const modelHeld = (t: ModelTx): number => (t.cleared ? 0 : Math.max(0, t.authorized - t.reversed));
function modelSpent(
  txs: readonly ModelTx[],
  interval: SpendingInterval,
  nowMs: number,
  timeZone: string,
  weekStartsOn: Weekday,
): number {
  const start = windowStart(nowMs, interval, timeZone, weekStartsOn);
  return txs
    .filter((t) => start === null || t.atMs >= start)
    .reduce((s, t) => s + modelHeld(t) + t.captured - t.refunded, 0);
}

describe('spending limits (property)', () => {
  it('never lets a window spend past its limit, nor available go negative, whatever the purchases and reversals', () => {
    fc.assert(
      fc.property(
        limitsArb,
        fc.constantFrom('UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata'),
        fc.constantFrom('monday', 'sunday', 'saturday' as const),
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        (limits, timeZone, weekStartsOn, steps) => {
          const prog = { ...program, timeZone, weekStartsOn };
          const c = card({
            controls: { ...card().controls, spendingLimits: limits },
            expiresAtMs: Number.MAX_SAFE_INTEGER,
          });
          let ledger = emptyLedger();
          const txs: ModelTx[] = [];
          let now = Date.parse('2026-02-27T00:00:00Z');
          let n = 0;
          for (const op of steps) {
            if (op.kind === 'purchase') {
              now += op.advanceMs;
              const d = decideAuthorization(c, prog, ledger, req(op.amount, { atMs: now }));
              // The model approves exactly when every limit leaves room for the amount.
              const fits = limits.every((l) =>
                l.interval === 'per_authorization'
                  ? op.amount <= l.amount
                  : modelSpent(txs, l.interval, now, timeZone, weekStartsOn) + op.amount <= l.amount,
              );
              expect(d.approved).toBe(fits);
              if (d.approved) {
                ledger = hold(ledger, `t${n}`, op.amount, now);
                txs.push({
                  id: `t${n++}`,
                  atMs: now,
                  authorized: op.amount,
                  reversed: 0,
                  captured: 0,
                  refunded: 0,
                  cleared: false,
                });
              }
            } else if (ledger.entries.length) {
              const pick = op.pick % ledger.entries.length;
              const e = ledger.entries[pick]!;
              const t = txs[pick]!;
              expect(t.id).toBe(e.id);
              const apply = (fn: (x: typeof e) => typeof e): void => {
                ledger = upsert(ledger, e.id, e.atMs, 'USD', fn).ledger;
              };
              if (op.kind === 'reverse') {
                apply((x) => ops.reverse(x, op.amount));
                t.reversed += op.amount;
              } else if (op.kind === 'capture' && modelHeld(t) > 0) {
                const amount = Math.floor(modelHeld(t) * op.fraction);
                apply((x) => ops.clear(x, amount));
                t.captured += amount;
                t.cleared = true;
              } else if (op.kind === 'refund' && t.captured - t.refunded > 0) {
                const amount = Math.floor((t.captured - t.refunded) * op.fraction);
                apply((x) => ops.refund(x, amount));
                t.refunded += amount;
              }
            }
            const clock = { nowMs: now, timeZone, weekStartsOn };
            for (const limit of limits) {
              if (limit.interval === 'per_authorization') continue;
              const spent = spentIn(usageIn(ledger, limit.interval, clock));
              expect(spent).toBe(modelSpent(txs, limit.interval, now, timeZone, weekStartsOn));
              expect(spent).toBeLessThanOrEqual(limit.amount);
              expect(limit.amount - spent).toBeGreaterThanOrEqual(0);
            }
            for (const v of Object.values(availableFor(ledger, limits, clock)))
              expect(v).toBeGreaterThanOrEqual(0);
            for (const e of ledger.entries) expect(heldOf(e)).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('per-authorization limits bound every single approval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 20_000 }),
        (limit, amount) => {
          const c = card({
            controls: {
              ...card().controls,
              spendingLimits: [{ amount: limit, interval: 'per_authorization' }],
            },
          });
          const d = decideAuthorization(c, program, emptyLedger(), req(amount));
          expect(d.approved).toBe(amount <= limit);
        },
      ),
    );
  });
});

/**
 * The decline order of docs/authorization.md, with several rules broken at once: the code is the
 * first rule in the documented order that the purchase breaks. The oracle below is the doc's list,
 * not the implementation.
 */
describe('decline order with rules broken together', () => {
  interface Broken {
    status: 'active' | 'frozen' | 'canceled' | 'pending' | 'expired';
    pastExpiry: boolean;
    currency: boolean;
    region: boolean;
    mcc: boolean;
    maxAuthorizations: boolean;
    perAuthorization: boolean;
    window: boolean;
    /** The card lists its per_authorization limit before its window limit. */
    perAuthorizationFirst: boolean;
  }
  const OK: Broken = {
    status: 'active',
    pastExpiry: false,
    currency: false,
    region: false,
    mcc: false,
    maxAuthorizations: false,
    perAuthorization: false,
    window: false,
    perAuthorizationFirst: true,
  };

  const AMOUNT = 600;
  function decide(b: Broken) {
    const perAuth: SpendingLimit = {
      amount: b.perAuthorization ? AMOUNT - 1 : AMOUNT,
      interval: 'per_authorization',
    };
    const window: SpendingLimit = { amount: b.window ? AMOUNT - 1 : AMOUNT, interval: 'monthly' };
    const c = card({
      status: b.status,
      expiresAtMs: b.pastExpiry ? T0 : T0 + 1,
      controls: {
        ...card().controls,
        spendingLimits: b.perAuthorizationFirst ? [perAuth, window] : [window, perAuth],
        maxAuthorizations: b.maxAuthorizations ? 2 : 3,
      },
      approvals: 2,
    });
    const r = req(AMOUNT, {
      ...(b.currency ? { currency: 'EUR' } : {}),
      merchant: { name: 'Shop', mcc: b.mcc ? '7995' : '5411', country: b.region ? 'CA' : 'US' },
    });
    const d = decideAuthorization(c, program, emptyLedger(), r);
    return d.approved ? 'APPROVED' : d.declineCode;
  }

  /** docs/authorization.md, "The decision": the first that applies. */
  function documented(b: Broken): string {
    const limits = b.perAuthorizationFirst
      ? ([
          [b.perAuthorization, 'EXCEEDS_PER_AUTHORIZATION_LIMIT'],
          [b.window, 'EXCEEDS_SPENDING_LIMIT'],
        ] as const)
      : ([
          [b.window, 'EXCEEDS_SPENDING_LIMIT'],
          [b.perAuthorization, 'EXCEEDS_PER_AUTHORIZATION_LIMIT'],
        ] as const);
    const rules: Array<readonly [boolean, string]> = [
      [b.status === 'expired' || (b.status === 'active' && b.pastExpiry), 'CARD_EXPIRED'],
      [b.status !== 'active', 'CARD_NOT_ACTIVE'],
      [b.currency, 'CURRENCY_MISMATCH'],
      [b.region, 'REGION_NOT_ALLOWED'],
      [b.mcc, 'MCC_BLOCKED'],
      [b.maxAuthorizations, 'MAX_AUTHORIZATIONS_REACHED'],
      ...limits,
    ];
    return rules.find(([broken]) => broken)?.[1] ?? 'APPROVED';
  }

  it('names the earlier rule of each pair broken together', () => {
    const pairs: Array<[Partial<Broken>, string]> = [
      [{ pastExpiry: true, window: true }, 'CARD_EXPIRED'],
      [{ pastExpiry: true, currency: true }, 'CARD_EXPIRED'],
      [{ pastExpiry: true, region: true }, 'CARD_EXPIRED'],
      [{ status: 'expired', mcc: true }, 'CARD_EXPIRED'],
      [{ status: 'frozen', window: true }, 'CARD_NOT_ACTIVE'],
      [{ status: 'frozen', region: true }, 'CARD_NOT_ACTIVE'],
      // Past its expiry but frozen: "expired" is an active card past its date (or status expired).
      [{ status: 'frozen', pastExpiry: true }, 'CARD_NOT_ACTIVE'],
      [{ currency: true, region: true }, 'CURRENCY_MISMATCH'],
      [{ currency: true, window: true }, 'CURRENCY_MISMATCH'],
      [{ region: true, window: true }, 'REGION_NOT_ALLOWED'],
      [{ region: true, mcc: true }, 'REGION_NOT_ALLOWED'],
      [{ mcc: true, maxAuthorizations: true }, 'MCC_BLOCKED'],
      [{ mcc: true, perAuthorization: true }, 'MCC_BLOCKED'],
      [{ maxAuthorizations: true, window: true }, 'MAX_AUTHORIZATIONS_REACHED'],
      [{ maxAuthorizations: true, perAuthorization: true }, 'MAX_AUTHORIZATIONS_REACHED'],
      [
        { perAuthorization: true, window: true, perAuthorizationFirst: true },
        'EXCEEDS_PER_AUTHORIZATION_LIMIT',
      ],
      [{ perAuthorization: true, window: true, perAuthorizationFirst: false }, 'EXCEEDS_SPENDING_LIMIT'],
    ];
    expect(decide(OK)).toBe('APPROVED');
    for (const [broken, code] of pairs) {
      expect({ broken, code: decide({ ...OK, ...broken }) }).toEqual({ broken, code });
      expect(documented({ ...OK, ...broken })).toBe(code);
    }
  });

  it('names the first documented rule broken, for any set of rules broken together', () => {
    fc.assert(
      fc.property(
        fc.record({
          status: fc.constantFrom('active', 'frozen', 'canceled', 'pending', 'expired' as const),
          pastExpiry: fc.boolean(),
          currency: fc.boolean(),
          region: fc.boolean(),
          mcc: fc.boolean(),
          maxAuthorizations: fc.boolean(),
          perAuthorization: fc.boolean(),
          window: fc.boolean(),
          perAuthorizationFirst: fc.boolean(),
        }),
        (b) => expect(decide(b)).toBe(documented(b)),
      ),
      { numRuns: 1_000 },
    );
  });
});
