/**
 * The sandbox partner simulator: plays a day of shopper activity against a running platform
 * through its public API (`/v1`), the sandbox partner's API (`/sandbox/v1`) and signed webhooks,
 * with optional chaos; then checks the platform's books against the partner's.
 *
 * Each card gets a script: authorizations (asked synchronously, as a card network does) followed
 * by a lifecycle — full, partial, multiple and over captures, full and partial reversals, expiries,
 * refunds — plus force captures and partner-side freezes. Asynchronous events are booked by the
 * sandbox with `defer` and delivered by the Courier, which applies the chaos. Silent changes are
 * booked but never sent: they are drift for reconciliation and are left out of the balance check.
 */
import { Courier, type ChaosOptions, type CourierStats } from './courier';
import { Rng } from './rng';
import type { SandboxEvent } from '../partners/sandbox/deliver';
import { apiClient, sleep } from './api-client';
import { checkBooks, type CheckedCard, type Mismatch } from './check';

export interface SimulationOptions {
  baseUrl: string;
  appKey: string;
  operatorKey: string;
  webhookUrl: string;
  webhookSecret: string;
  cards: number;
  purchasesPerCard: number;
  /** Cards played at the same time. */
  concurrency: number;
  seed: number;
  chaos: ChaosOptions;
  /** How long to wait for the platform's books to match after the last delivery. */
  settleTimeoutMs: number;
  /** Each card's all-time spending limit, minor units. */
  cardLimit?: number;
  progress?: (line: string) => void;
}

export interface SimulationReport {
  runId: string;
  seed: number;
  seconds: number;
  cards: number;
  authorizations: { approved: number; declined: number; byCode: Record<string, number> };
  lifecycle: Record<string, number>;
  statusChanges: number;
  delivery: Omit<CourierStats, 'refused'> & { refused: number };
  silent: { transactions: number; statusChanges: number };
  check: {
    transactionsCompared: number;
    cardsCompared: number;
    mismatches: Mismatch[];
    settledAfterMs: number;
    /** Latest outcome per delivery for the simulated cards (admin API). */
    outcomes: Record<string, number>;
  };
  ok: boolean;
  /** The cards played and where silent drift was left (for a later check or a reconciliation test). */
  played: CheckedCard[];
  startedAt: string;
}

interface SimCard extends CheckedCard {
  rng: Rng;
}

const MERCHANTS = [
  { name: 'Corner Coffee', mcc: '5814', country: 'US', region: 'US-CA' },
  { name: 'Grocer', mcc: '5411', country: 'US', region: 'US-NY' },
  { name: 'Fuel Stop', mcc: '5542', country: 'US', region: 'US-TX' },
  { name: 'Book Shop', mcc: '5942', country: 'US', region: 'US-WA' },
];

/** A parsed JSON response: the platform's and the partner's API shapes, as api.md gives them. */
export async function runSimulation(opts: SimulationOptions): Promise<SimulationReport> {
  const started = Date.now();
  const runId = `sim${started.toString(36)}`;
  const say = opts.progress ?? (() => undefined);
  const startedIso = new Date(started - 1000).toISOString();
  const courier = new Courier(
    { url: opts.webhookUrl, secret: opts.webhookSecret },
    opts.chaos,
    new Rng(opts.seed ^ 0x5eed),
  );
  const report: SimulationReport = {
    runId,
    seed: opts.seed,
    seconds: 0,
    cards: opts.cards,
    authorizations: { approved: 0, declined: 0, byCode: {} },
    lifecycle: {},
    statusChanges: 0,
    delivery: { ...courier.stats, refused: 0 },
    silent: { transactions: 0, statusChanges: 0 },
    check: { transactionsCompared: 0, cardsCompared: 0, mismatches: [], settledAfterMs: 0, outcomes: {} },
    ok: false,
    played: [],
    startedAt: startedIso,
  };
  const count = (k: string) => (report.lifecycle[k] = (report.lifecycle[k] ?? 0) + 1);

  const { call } = apiClient(opts.baseUrl);

  // ---- the partner's side ---------------------------------------------------------------------
  /** Books a partner transaction; asynchronous ones come back deferred (the courier delivers them) unless silent. */
  const book = async (
    card: SimCard,
    type: 'authorization' | 'clearing' | 'reversal' | 'refund' | 'expiry',
    body: Record<string, unknown>,
  ): Promise<{ transactionId: string; approved: boolean | null; declineCode?: string }> => {
    if (type === 'authorization') {
      const dup = card.rng.chance(opts.chaos.duplicates) ? 1 : 0;
      const r = await call('POST', '/sandbox/v1/transactions', opts.operatorKey, {
        cardId: card.partnerCardId,
        type,
        ...body,
        ...(dup ? { chaos: { duplicates: dup } } : {}),
      });
      const answer = r.delivery?.deliveries?.[0]?.body ?? {};
      return { transactionId: r.transactionId, approved: r.approved, declineCode: answer.declineCode };
    }
    const silent = card.rng.chance(opts.chaos.silent);
    const r = await call('POST', '/sandbox/v1/transactions', opts.operatorKey, {
      cardId: card.partnerCardId,
      type,
      ...body,
      ...(silent ? { silent: true } : { defer: true }),
    });
    if (silent) {
      report.silent.transactions++;
      card.drifted.add(r.transactionId);
    } else courier.send(card.partnerCardId, r.event as SandboxEvent);
    return { transactionId: r.transactionId, approved: null };
  };

  const setPartnerStatus = async (card: SimCard, status: 'active' | 'frozen') => {
    const silent = card.rng.chance(opts.chaos.silent);
    const r = await call('POST', `/sandbox/v1/cards/${card.partnerCardId}/status`, opts.operatorKey, {
      status,
      reason: 'simulated partner-side change',
      ...(silent ? { silent: true } : { defer: true }),
    });
    report.statusChanges++;
    if (silent) {
      report.silent.statusChanges++;
      card.statusDrifted = true;
    } else courier.send(card.partnerCardId, r.event as SandboxEvent);
  };

  // ---- one shopper's day ----------------------------------------------------------------------
  const purchase = async (card: SimCard) => {
    const rng = card.rng;
    if (rng.chance(0.05)) {
      // A force capture: the merchant captures without an authorization we saw.
      await book(card, 'clearing', { amount: rng.int(100, 3000), currency: 'USD' });
      count('force_capture');
      return;
    }
    const amount = rng.int(2, 150) * 100 + rng.int(0, 99);
    const auth = await book(card, 'authorization', {
      amount,
      currency: 'USD',
      merchant: rng.pick(MERCHANTS),
    });
    if (!auth.approved) {
      report.authorizations.declined++;
      const code = auth.declineCode ?? 'UNKNOWN';
      report.authorizations.byCode[code] = (report.authorizations.byCode[code] ?? 0) + 1;
      return;
    }
    report.authorizations.approved++;
    const tx = { transactionId: auth.transactionId };
    const r = rng.next();
    if (r < 0.3) {
      await book(card, 'clearing', { ...tx, amount, currency: 'USD' });
      count('full_capture');
    } else if (r < 0.4) {
      await book(card, 'clearing', { ...tx, amount: Math.max(1, Math.round(amount * 0.6)), currency: 'USD' });
      count('partial_capture');
    } else if (r < 0.48) {
      const first = Math.floor(amount / 2);
      await book(card, 'clearing', { ...tx, amount: first, currency: 'USD' });
      await book(card, 'clearing', { ...tx, amount: amount - first, currency: 'USD' });
      count('multiple_captures');
    } else if (r < 0.52) {
      await book(card, 'clearing', { ...tx, amount: Math.round(amount * 1.15), currency: 'USD' });
      count('over_capture');
    } else if (r < 0.62) {
      await book(card, 'reversal', { ...tx, amount });
      count('full_reversal');
    } else if (r < 0.68) {
      const part = Math.max(1, Math.floor(amount / 3));
      await book(card, 'reversal', { ...tx, amount: part });
      await book(card, 'clearing', { ...tx, amount: amount - part, currency: 'USD' });
      count('partial_reversal_then_capture');
    } else if (r < 0.76) {
      await book(card, 'expiry', tx);
      count('expiry');
    } else if (r < 0.86) {
      await book(card, 'clearing', { ...tx, amount, currency: 'USD' });
      await book(card, 'refund', {
        ...tx,
        amount: rng.chance(0.5) ? amount : Math.max(1, Math.round(amount / 4)),
        currency: 'USD',
      });
      count('capture_then_refund');
    } else {
      count('left_pending');
    }
  };

  const playCard = async (i: number): Promise<SimCard> => {
    const rng = new Rng((opts.seed * 1000003 + i) >>> 0);
    const user = await call('POST', '/v1/users', opts.appKey, {
      externalId: `${runId}-u${i}`,
      name: `Simulated shopper ${i}`,
      region: 'US-CA',
    });
    const issued = await call(
      'POST',
      '/v1/cards',
      opts.appKey,
      {
        userId: user.id,
        currency: 'USD',
        controls: { spendingLimits: [{ amount: opts.cardLimit ?? 200_000, interval: 'all_time' }] },
      },
      { 'idempotency-key': `${runId}-c${i}` },
    );
    const card: SimCard = {
      id: issued.id,
      partnerCardId: issued.partnerCardId,
      rng,
      drifted: new Set(),
      statusDrifted: false,
    };
    const freezeAt = rng.chance(0.3) ? rng.int(0, opts.purchasesPerCard - 1) : -1;
    for (let k = 0; k < opts.purchasesPerCard; k++) {
      if (k === freezeAt) {
        // The partner freezes the card (fraud check) and lifts it again; both announced, maybe out of order.
        await setPartnerStatus(card, 'frozen');
        await sleep(rng.int(0, 50));
        await setPartnerStatus(card, 'active');
      }
      await purchase(card);
    }
    return card;
  };

  say(`run ${runId}: ${opts.cards} cards × ${opts.purchasesPerCard} purchases, seed ${opts.seed}`);
  const ticker = setInterval(() => {
    const s = courier.stats;
    say(
      `… ${done}/${opts.cards} cards played; ${s.events} events queued, ${s.acknowledged} acknowledged, ${courier.pending} in flight` +
        ` (dropped ${s.dropped}, duplicated ${s.duplicatesSent}, delayed ${s.delayed}, reordered ${s.reordered})`,
    );
  }, 2000);
  let done = 0;
  const cards: SimCard[] = [];
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.max(1, opts.concurrency) }, async () => {
        while (next < opts.cards) {
          const i = next++;
          cards[i] = await playCard(i);
          done++;
        }
      }),
    );
    say('all cards played; waiting for the courier to deliver everything');
    await courier.drain();
  } finally {
    clearInterval(ticker);
  }

  // ---- the check: the platform's books against the partner's -----------------------------------
  say('comparing the platform’s books with the sandbox partner’s');
  const settleStart = Date.now();
  let mismatches: Mismatch[];
  let compared: { transactions: number; cards: number };
  let outcomes: Record<string, number>;
  for (;;) {
    ({ mismatches, compared, outcomes } = await checkBooks(opts, cards, startedIso));
    if (!mismatches.length || Date.now() - settleStart > opts.settleTimeoutMs) break;
    say(`… ${mismatches.length} differences left; the platform may still be applying events`);
    await sleep(1000);
  }
  const s = courier.stats;
  report.delivery = { ...s, refused: s.refused.length };
  report.check = {
    transactionsCompared: compared.transactions,
    cardsCompared: compared.cards,
    mismatches,
    settledAfterMs: Date.now() - settleStart,
    outcomes,
  };
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  report.ok = mismatches.length === 0 && s.refused.length === 0;
  report.played = cards.map(({ id, partnerCardId, drifted, statusDrifted }) => ({
    id,
    partnerCardId,
    drifted,
    statusDrifted,
  }));
  report.startedAt = startedIso;
  for (const r of s.refused) say(`refused delivery ${r.eventId}: ${r.status} ${r.body}`);

  return report;
}
