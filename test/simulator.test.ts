import { useHarness } from './helpers/harness';
import { newTenant, type TestTenant } from './helpers/fixtures';
import { checkBooks, reconcilePlayed } from '../src/simulator/check';
import { runSimulation } from '../src/simulator/simulator';

const h = useHarness();
let t: TestTenant;
beforeAll(async () => {
  t = await newTenant(h);
});

const target = () => ({
  baseUrl: h.baseUrl,
  appKey: t.appKey,
  operatorKey: t.operatorKey,
  webhookUrl: t.sandboxWebhookUrl,
  webhookSecret: t.sandboxWebhookSecret,
});

describe('the sandbox partner simulator', () => {
  it('plays a chaotic day (duplicates, reordering, drops, delays, silent changes) and the books match the partner’s', async () => {
    const report = await runSimulation({
      ...target(),
      cards: 6,
      purchasesPerCard: 6,
      concurrency: 3,
      seed: 42,
      chaos: { duplicates: 0.4, reorder: 0.4, drops: 0.2, delays: 0.3, maxDelayMs: 800, silent: 0.05 },
      settleTimeoutMs: 30_000,
    });
    expect(report.check.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    // The chaos really happened, and every delivery was acknowledged.
    expect(report.delivery.duplicatesSent).toBeGreaterThan(0);
    expect(report.delivery.reordered).toBeGreaterThan(0);
    expect(report.delivery.dropped).toBeGreaterThan(0);
    expect(report.delivery.refused).toBe(0);
    expect(report.delivery.acknowledged).toBe(report.delivery.attempts);
    // Each extra copy was recognised as a duplicate (none applied twice), and none failed.
    expect(report.check.outcomes.duplicate ?? 0).toBeGreaterThanOrEqual(report.delivery.duplicatesSent);
    expect(report.check.outcomes.failed ?? 0).toBe(0);
    expect(report.check.transactionsCompared).toBeGreaterThan(20);

    // A reconciliation of the same books finds only drift the simulator's silent changes left.
    const rec = await reconcilePlayed(target(), report.played);
    expect(rec.unexplained).toEqual([]);
    if (rec.silent.transactions > 0)
      expect(Object.values(rec.found).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    // The check is not blind: a partner-side change the simulator does not know about is found.
    const card = report.played[0]!;
    const silent = await h.request('POST', '/sandbox/v1/transactions', {
      key: t.operatorKey,
      body: { cardId: card.partnerCardId, type: 'clearing', amount: 1_234, currency: 'USD', silent: true },
    });
    expect(silent.status).toBe(201);
    const after = await checkBooks(target(), report.played, report.startedAt);
    expect(after.mismatches).toEqual([
      expect.objectContaining({
        cardId: card.id,
        transactionId: silent.body.transactionId,
        field: 'exists',
        platform: false,
      }),
    ]);
  });
});
