import fc from 'fast-check';
import {
  decideRequest,
  partialApprovalRoom,
  type CardForDecision,
  type ProgramForDecision,
} from './authorization';
import type { SpendingLimit } from './controls';
import { applyMoneyEvent, emptyLedger, heldOf, totals, usageIn, type Ledger } from './ledger';
import { spentIn } from './balances';

const T0 = Date.parse('2026-11-20T12:00:00Z');
const program: ProgramForDecision = {
  regions: ['US'],
  blockedMccs: [],
  timeZone: 'America/New_York',
  weekStartsOn: 'monday',
};
const merchant = { name: 'Fuel', mcc: '5542', country: 'US', region: 'US-CA' };
const card = (limits: SpendingLimit[], over: Partial<CardForDecision> = {}): CardForDecision => ({
  status: 'active',
  currency: 'USD',
  controls: {
    spendingLimits: limits,
    allowedRegions: ['US'],
    blockedMccs: [],
    allowedMccs: [],
    maxAuthorizations: null,
  },
  expiresAtMs: T0 + 365 * 86_400_000,
  approvals: 0,
  ...over,
});
const request = (id: string, amount: number, over: Record<string, unknown> = {}) => ({
  transactionId: id,
  amount,
  currency: 'USD',
  merchant,
  occurredAtMs: T0,
  ...over,
});
const clock = { nowMs: T0, timeZone: program.timeZone, weekStartsOn: program.weekStartsOn };
/** The caller answers the partner with the approved amount. */
const partial = { answersPartial: true };

describe('partial approval', () => {
  const limits: SpendingLimit[] = [
    { amount: 10_000, interval: 'monthly' },
    { amount: 6_000, interval: 'per_authorization' },
  ];

  it('approves what the limits leave when the partner allows it, and holds only that', () => {
    let ledger = decideRequest(card(limits), program, emptyLedger(), request('t1', 5_000), T0, partial).next
      .ledger;
    const out = decideRequest(
      card(limits),
      program,
      ledger,
      request('t2', 8_000, { partialApproval: true }),
      T0,
      partial,
    );
    expect(out.decision).toEqual({ approved: true, approvedAmount: 5_000 });
    expect(heldOf(out.next.entry)).toBe(5_000);
    ledger = out.next.ledger;
    expect(spentIn(usageIn(ledger, 'monthly', clock))).toBe(10_000);
  });

  it('keeps the per-authorization limit as the ceiling of a partial approval', () => {
    const out = decideRequest(
      card(limits),
      program,
      emptyLedger(),
      request('t', 9_000, { partialApproval: true }),
      T0,
      partial,
    );
    expect(out.decision).toEqual({ approved: true, approvedAmount: 6_000 });
  });

  it('approves nothing in part for a caller that does not answer with the approved amount', () => {
    const out = decideRequest(
      card(limits),
      program,
      emptyLedger(),
      request('t', 9_000, { partialApproval: true }),
      T0,
    );
    expect(out.decision).toMatchObject({ approved: false, declineCode: 'EXCEEDS_PER_AUTHORIZATION_LIMIT' });
  });

  it('declines in full where the partner does not take a smaller amount', () => {
    const out = decideRequest(card(limits), program, emptyLedger(), request('t', 9_000), T0, partial);
    expect(out.decision).toMatchObject({ approved: false, declineCode: 'EXCEEDS_PER_AUTHORIZATION_LIMIT' });
    expect(heldOf(out.next.entry)).toBe(0);
  });

  it('declines when what is left does not cover the cash back, or is nothing', () => {
    const spent = decideRequest(card(limits), program, emptyLedger(), request('a', 6_000), T0, partial).next
      .ledger;
    const spent2 = decideRequest(card(limits), program, spent, request('b', 3_000), T0, partial).next.ledger;
    // 1,000 left this month; the purchase asks 2,500 of which 1,500 is cash back.
    const out = decideRequest(
      card(limits),
      program,
      spent2,
      request('c', 2_500, { partialApproval: true, cashbackAmount: 1_500 }),
      T0,
      partial,
    );
    expect(out.decision).toMatchObject({ approved: false, declineCode: 'EXCEEDS_SPENDING_LIMIT' });
    const full = decideRequest(card(limits), program, spent2, request('d', 1_000), T0, partial).next.ledger;
    const none = decideRequest(
      card(limits),
      program,
      full,
      request('e', 500, { partialApproval: true }),
      T0,
      partial,
    );
    expect(none.decision).toMatchObject({ approved: false, declineCode: 'EXCEEDS_SPENDING_LIMIT' });
  });

  it('never turns a decline other than a limit into a partial approval', () => {
    const frozen = card(limits, { status: 'frozen' });
    const out = decideRequest(
      frozen,
      program,
      emptyLedger(),
      request('t', 9_000, { partialApproval: true }),
      T0,
      partial,
    );
    expect(out.decision).toMatchObject({ approved: false, declineCode: 'CARD_NOT_ACTIVE' });
  });

  it('reports the room a partial approval may take', () => {
    expect(partialApprovalRoom(card(limits), program, emptyLedger(), T0)).toBe(6_000);
    expect(partialApprovalRoom(card([]), program, emptyLedger(), T0)).toBe(Infinity);
  });

  it('never lets partial approvals and partner adjustments push held or captured below zero, nor our approvals past a limit', () => {
    const step = fc.oneof(
      fc.record({
        k: fc.constant('request' as const),
        amount: fc.integer({ min: 1, max: 9_000 }),
        partial: fc.boolean(),
        cashback: fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: undefined }),
      }),
      fc.record({ k: fc.constant('adjust' as const), amount: fc.integer({ min: 1, max: 4_000 }) }),
      fc.record({ k: fc.constant('reverse' as const), amount: fc.integer({ min: 1, max: 9_000 }) }),
      fc.record({ k: fc.constant('clear' as const), amount: fc.integer({ min: 1, max: 9_000 }) }),
      fc.record({ k: fc.constant('refund' as const), amount: fc.integer({ min: 1, max: 9_000 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1_000, max: 30_000 }),
        fc.integer({ min: 500, max: 12_000 }),
        (steps, monthly, perAuth) => {
          const c = card([
            { amount: monthly, interval: 'monthly' },
            { amount: perAuth, interval: 'per_authorization' },
          ]);
          let ledger: Ledger = emptyLedger();
          let n = 0;
          let last: string | null = null;
          for (const s of steps) {
            const at = T0 + n++;
            if (s.k === 'request') {
              const id = `t${n}`;
              const cashback = s.cashback === undefined ? undefined : Math.min(s.cashback, s.amount);
              const before = spentIn(usageIn(ledger, 'monthly', clock));
              const out = decideRequest(
                c,
                program,
                ledger,
                request(id, s.amount, {
                  partialApproval: s.partial,
                  cashbackAmount: cashback,
                  occurredAtMs: at,
                }),
                T0,
                partial,
              );
              if (out.decision.approved) {
                const approved = out.decision.approvedAmount ?? s.amount;
                expect(approved).toBeGreaterThan(0);
                expect(approved).toBeLessThanOrEqual(s.amount);
                expect(approved).toBeLessThanOrEqual(perAuth);
                if (out.decision.approvedAmount !== undefined) {
                  expect(s.partial).toBe(true);
                  expect(approved).toBeGreaterThanOrEqual(cashback ?? 0);
                }
                // Our approval never takes the window past its limit, whatever the partner held
                // beyond it by adjustments (then nothing more is approved).
                expect(before + approved).toBeLessThanOrEqual(monthly);
                last = id;
              }
              ledger = out.next.ledger;
            } else if (last) {
              const kind = {
                adjust: 'authorization.adjustment',
                reverse: 'authorization.reversal',
                clear: 'clearing',
                refund: 'refund',
              }[s.k];
              ledger = applyMoneyEvent(
                ledger,
                {
                  kind,
                  transactionId: last,
                  refundId: `r${n}`,
                  amount: s.amount,
                  currency: 'USD',
                  occurredAtMs: at,
                } as Parameters<typeof applyMoneyEvent>[1],
                'USD',
              ).ledger;
            }
            const t = totals(ledger);
            expect(t.held).toBeGreaterThanOrEqual(0);
            expect(t.captured).toBeGreaterThanOrEqual(0);
            for (const e of ledger.entries) expect(heldOf(e)).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
