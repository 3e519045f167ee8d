import fs from 'node:fs';
import path from 'node:path';
import type { TemporalDevServerHandle } from '../src/infra/temporal-server';
import { startHarness, type Harness } from './helpers/harness';
import { startOwnTemporal } from './helpers/processes';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';
import { testDataDir } from './setup/stack-file';

/**
 * A Temporal server of this file's own (same SQLite file across a restart), so stopping it does
 * not disturb the other test files.
 */
const dir = path.join(testDataDir, 'temporal-outage');
// Stopping and restarting a server, and the outbox relay's backoff (up to a minute) after a long outage.
jest.setTimeout(180_000);

let server: TemporalDevServerHandle;
let port: number;
let h: Harness;
let t: TestTenant;

const startServer = (): Promise<TemporalDevServerHandle> => startOwnTemporal(dir, port);

beforeAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  server = await startServer();
  port = Number(server.address.split(':')[1]);
  h = await startHarness({ temporalAddress: server.address, sweepIntervalMs: 300, ownDatabase: true });
  t = await newTenant(h);
});
afterAll(async () => {
  await h.stop();
  await server.stop();
});

describe('Temporal unavailable while deliveries arrive', () => {
  it('acknowledges and stores every delivery, then applies each exactly once when Temporal is back', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    expect(card.status).toBe('active');

    await server.stop();
    const sent = [];
    for (let i = 0; i < 12; i++) {
      const data = {
        transactionId: uniq('tx'),
        cardId: card.partnerCardId,
        amount: 100 + i,
        currency: 'USD',
      };
      const res = await sendEvent(h, t, 'transaction.cleared', data);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ received: true, duplicate: false });
      sent.push(res);
      if (i % 3 === 0)
        expect((await sendEvent(h, t, 'transaction.cleared', data, { id: res.eventId })).body.duplicate).toBe(
          true,
        );
    }
    const ids = sent.map((r) => r.body.id);
    expect(await h.knex('webhook_deliveries').whereIn('id', ids)).toHaveLength(12);
    // The relay tries each hand-off and fails; the outbox keeps them pending, retried with backoff.
    // Nothing can be applied while Temporal is down; every delivery waits in the outbox.
    expect(await h.knex('webhook_handoffs').whereIn('deliveryId', ids)).toHaveLength(12);
    expect(await h.knex('transaction_events').where({ cardId: card.id })).toHaveLength(0);
    await eventually(
      async () =>
        (await h.knex('webhook_handoffs').whereIn('deliveryId', ids).where('attempts', '>=', 1)).length > 0,
      30_000,
    );
    expect(await h.knex('transaction_events').where({ cardId: card.id })).toHaveLength(0);

    server = await startServer();
    expect(server.address).toBe(`127.0.0.1:${port}`);
    const expected = sent.reduce((sum, _r, i) => sum + 100 + i, 0);
    await eventually(
      async () =>
        (await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body.balances?.captured ===
        expected,
      150_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect((await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body.balances.captured).toBe(
      expected,
    );
    expect(await h.knex('transaction_events').where({ cardId: card.id })).toHaveLength(12);
    const applied = await h.knex('webhook_outcomes').whereIn('deliveryId', ids).where({ outcome: 'applied' });
    expect(applied).toHaveLength(12);
    expect(
      await h.knex('webhook_handoffs').whereIn('deliveryId', ids).whereNot({ status: 'handed_off' }),
    ).toHaveLength(0);
  });
});
