/**
 * The simulator's checks: the platform's books for the played cards against the sandbox partner's
 * (per transaction and per card), and a reconciliation whose every finding a silent change explains.
 */
import { apiClient, sleep, type Json } from './api-client';

export interface Mismatch {
  cardId: string;
  transactionId?: string;
  field: string;
  platform: unknown;
  partner: unknown;
}

export interface CheckedCard {
  id: string;
  partnerCardId: string;
  /** Partner transaction ids touched by a silent change (drift: excluded from the balance check). */
  drifted: Set<string>;
  statusDrifted: boolean;
}

/**
 * Compares the platform's books for `played` cards with the sandbox partner's since `fromIso`:
 * per transaction the authorized, captured, refunded, reversed and held amounts; per card the
 * status; and every delivery's latest outcome (none may be `failed`).
 */
export async function checkBooks(
  opts: { baseUrl: string; appKey: string; operatorKey: string },
  played: CheckedCard[],
  fromIso: string,
): Promise<{
  mismatches: Mismatch[];
  compared: { transactions: number; cards: number };
  outcomes: Record<string, number>;
}> {
  const { call, pages: list } = apiClient(opts.baseUrl);
  const outcomes: Record<string, number> = {};
  const byPartnerCard = new Map(played.map((c) => [c.partnerCardId, c]));
  const partnerTx = new Map<
    string,
    {
      card: CheckedCard;
      authorized: number;
      captured: number;
      refunded: number;
      reversed: number;
      cleared: boolean;
      expired: boolean;
      declined: boolean;
    }
  >();
  for (const t of await list(
    `/sandbox/v1/transactions?from=${encodeURIComponent(fromIso)}`,
    opts.operatorKey,
  )) {
    const card = byPartnerCard.get(t.cardId);
    if (!card || card.drifted.has(t.transactionId)) continue;
    const key = `${card.id}/${t.transactionId}`;
    const e = partnerTx.get(key) ?? {
      card,
      authorized: 0,
      captured: 0,
      refunded: 0,
      reversed: 0,
      cleared: false,
      expired: false,
      declined: false,
    };
    if (t.type === 'authorization') {
      if (t.approved) e.authorized += t.amount;
      else e.declined = true;
    } else if (t.type === 'clearing') {
      e.captured += t.amount;
      e.cleared = true;
    } else if (t.type === 'refund') e.refunded += t.amount;
    else if (t.type === 'reversal') e.reversed += t.amount;
    else if (t.type === 'expiry') e.expired = true;
    partnerTx.set(key, e);
  }
  const out: Mismatch[] = [];
  const seen = new Set<string>();
  for (const k of Object.keys(outcomes)) delete outcomes[k];
  const partnerCards = new Map(
    (await list('/sandbox/v1/cards', opts.operatorKey)).map((c: Json) => [
      c.id as string,
      c.status as string,
    ]),
  );
  for (const card of played) {
    const ours = await list(`/v1/cards/${card.id}/transactions`, opts.appKey);
    for (const t of ours) {
      if (card.drifted.has(t.partnerTransactionId)) continue;
      const key = `${card.id}/${t.partnerTransactionId}`;
      seen.add(key);
      const p = partnerTx.get(key);
      if (!p) {
        out.push({
          cardId: card.id,
          transactionId: t.partnerTransactionId,
          field: 'exists',
          platform: true,
          partner: false,
        });
        continue;
      }
      const held = p.cleared || p.expired || p.declined ? 0 : Math.max(0, p.authorized - p.reversed);
      const expect: Record<string, number> = {
        authorizedAmount: p.authorized,
        capturedAmount: p.captured,
        refundedAmount: p.refunded,
        reversedAmount: p.reversed,
        heldAmount: held,
      };
      for (const [field, value] of Object.entries(expect))
        if (t[field] !== value)
          out.push({
            cardId: card.id,
            transactionId: t.partnerTransactionId,
            field,
            platform: t[field],
            partner: value,
          });
    }
    // Every delivery that reached the card ended well: applied, a recognised duplicate, or ignored as stale.
    for (const d of await list(`/admin/webhook-events?cardId=${card.id}`, opts.operatorKey)) {
      outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
      if (d.outcome === 'failed')
        out.push({
          cardId: card.id,
          field: `delivery ${d.id}`,
          platform: `failed: ${d.error}`,
          partner: 'applied',
        });
    }
    const platformCard = await call('GET', `/v1/cards/${card.id}`, opts.appKey);
    const partnerStatus = partnerCards.get(card.partnerCardId);
    if (!card.statusDrifted && platformCard.status !== partnerStatus)
      out.push({ cardId: card.id, field: 'status', platform: platformCard.status, partner: partnerStatus });
  }
  for (const [key, p] of partnerTx)
    if (!seen.has(key))
      out.push({
        cardId: p.card.id,
        transactionId: key.split('/')[1],
        field: 'exists',
        platform: false,
        partner: true,
      });
  return { mismatches: out, compared: { transactions: partnerTx.size, cards: played.length }, outcomes };
}

export interface ReconciliationCheck {
  runId: string;
  seconds: number;
  /** What the run found on the played cards, per category. */
  found: Record<string, number>;
  /** Found on the played cards but not explained by a silent change the simulator made. */
  unexplained: Array<{ id: string; category: string; key: string }>;
  /** Silent changes made (a silent change can leave no net drift: a freeze then an announced unfreeze). */
  silent: { transactions: number; cards: number };
}

/**
 * Runs a reconciliation of the tenant's books with the sandbox's now (nothing left to settle, no
 * healing) and checks what it found on the played cards against the silent changes the
 * simulator made: every discrepancy must be explained by one.
 */
export async function reconcilePlayed(
  opts: { baseUrl: string; operatorKey: string },
  played: CheckedCard[],
  progress: (line: string) => void = () => undefined,
): Promise<ReconciliationCheck> {
  const { call, pages } = apiClient(opts.baseUrl);
  const t0 = Date.now();
  const started = await call('POST', '/admin/reconciliations', opts.operatorKey, {
    partner: 'sandbox',
    autoHeal: false,
    settleMs: 0,
  });
  let run: Json;
  for (;;) {
    await sleep(500);
    run = await call('GET', `/admin/reconciliations/${started.id}`, opts.operatorKey);
    if (run.status !== 'running') break;
    progress(`reconciliation ${started.id}: ${run.progress?.phase ?? 'starting'}`);
  }
  if (run.status !== 'completed') throw new Error(`reconciliation ${started.id} ${run.status}: ${run.error}`);
  const byPartnerCard = new Map(played.map((c) => [c.partnerCardId, c]));
  const found: Record<string, number> = {};
  const unexplained: ReconciliationCheck['unexplained'] = [];
  for (const d of await pages(`/admin/discrepancies?runId=${started.id}`, opts.operatorKey)) {
    const card = byPartnerCard.get(d.partnerCardId);
    if (!card) continue;
    found[d.category] = (found[d.category] ?? 0) + 1;
    const explained = d.partnerTransactionId ? card.drifted.has(d.partnerTransactionId) : card.statusDrifted;
    if (!explained)
      unexplained.push({ id: d.id, category: d.category, key: d.partnerTransactionId ?? d.partnerCardId });
  }
  return {
    runId: started.id,
    seconds: (Date.now() - t0) / 1000,
    found,
    unexplained,
    silent: {
      transactions: played.reduce((n, c) => n + c.drifted.size, 0),
      cards: played.filter((c) => c.statusDrifted).length,
    },
  };
}
