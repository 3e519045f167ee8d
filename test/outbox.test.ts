import { handOff } from '../src/webhooks/outbox';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';
import { createLogger } from '../src/lib/logger';

const h = useHarness();
let t: TestTenant;
beforeAll(async () => {
  t = await newTenant(h);
});

describe('the outbox relay', () => {
  it('does not mark a row handed off when a replay re-queued it after the claim', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const sent = await sendEvent(h, t, 'transaction.cleared', {
      transactionId: uniq('tx'),
      cardId: card.partnerCardId,
      amount: 100,
      currency: 'USD',
    });
    const deliveryId = sent.body.id as string;
    await eventually(
      async () => (await h.knex('webhook_handoffs').where({ deliveryId }).first())?.status === 'handed_off',
    );
    // An operator's replay re-queues it (a fresh next_attempt_at); a relay that claimed it before
    // that finishes its hand-off with the old lease: the row must stay pending for the replay.
    await h
      .knex('webhook_handoffs')
      .where({ deliveryId })
      .update({ status: 'pending', nextAttemptAt: new Date(Date.now() + 3_600_000) });
    const row = await h.knex('webhook_handoffs').where({ deliveryId }).first();
    const deps = {
      knex: h.knex,
      vault: undefined as never,
      temporal: h.temporal,
      cards: { taskQueue: 'unused' },
      log: createLogger({ name: 'test', stdout: false }),
    };
    expect(await handOff(deps, { ...row, lease: '2000-01-01 00:00:00+00' })).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect((await h.knex('webhook_handoffs').where({ deliveryId }).first()).status).toBe('pending');
    // With the lease it holds, the mark applies.
    const lease = (
      await h.knex.raw('SELECT next_attempt_at::text AS l FROM webhook_handoffs WHERE delivery_id = ?', [
        deliveryId,
      ])
    ).rows[0].l;
    expect(await handOff(deps, { ...row, lease })).toBe(true);
    await eventually(
      async () => (await h.knex('webhook_handoffs').where({ deliveryId }).first()).status === 'handed_off',
    );
  });
});
