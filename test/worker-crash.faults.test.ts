import { useHarness } from './helpers/harness';
import { startWorkerProcess as spawnWorker, type WorkerProcess } from './helpers/processes';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';

const h = useHarness({ worker: false });
let t: TestTenant;

/** A real worker process (worker.ts) on this file's task queue, which the test can kill -9. */
const startWorkerProcess = (): WorkerProcess => spawnWorker(h, { sweepIntervalMs: 300 });

beforeAll(async () => {
  t = await newTenant(h);
});

describe('a worker killed in the middle of processing', () => {
  it('applies each event exactly once after another worker takes over', async () => {
    const first = startWorkerProcess();
    await first.ready;
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    expect(card.status).toBe('active');

    const amounts = Array.from({ length: 40 }, (_, i) => 50 + i);
    const sent = await Promise.all(
      amounts.map((amount) =>
        sendEvent(h, t, 'transaction.cleared', {
          transactionId: uniq('tx'),
          cardId: card.partnerCardId,
          amount,
          currency: 'USD',
        }),
      ),
    );
    expect(sent.every((r) => r.status === 200)).toBe(true);
    // Kill it while it works through them.
    await eventually(
      async () => (await h.knex('transaction_events').where({ cardId: card.id })).length >= 3,
      20_000,
      20,
    );
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const before = (await h.knex('transaction_events').where({ cardId: card.id })).length;
    expect(before).toBeLessThan(40);

    const second = startWorkerProcess();
    await second.ready;
    try {
      const total = amounts.reduce((a, b) => a + b, 0);
      await eventually(
        async () =>
          (await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body.balances.captured ===
          total,
        60_000,
        300,
      );
      await new Promise((r) => setTimeout(r, 1500));
      expect((await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body.balances.captured).toBe(
        total,
      );
      expect(await h.knex('transaction_events').where({ cardId: card.id })).toHaveLength(40);
      const outcomes = await h.knex('webhook_outcomes').whereIn(
        'deliveryId',
        sent.map((r) => r.body.id),
      );
      expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(40);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  });

  it('stops cleanly on SIGINT and SIGTERM together (Ctrl-C under npm run dev sends both)', async () => {
    const w = startWorkerProcess();
    await w.ready;
    const exited = new Promise<number | null>((r) => w.child.once('exit', (code) => r(code)));
    w.child.kill('SIGINT');
    w.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(w.stderr()).not.toMatch(/IllegalStateError|Error:/);
  });
});
