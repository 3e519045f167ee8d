/**
 * The ingest statement stores a delivery, its events' dedupe keys, their outbox rows and the
 * outcomes of duplicates in one statement: all or nothing. Here a fault is injected between its
 * parts (a trigger that fails the outbox insert for marked event ids, in a database of this file's
 * own), so the delivery and the dedupe key were already written in the same statement when it
 * fails: nothing may stay, and the partner's retry must be taken as new, not as a duplicate.
 */
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { outcomesOf, sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';

const h = useHarness({ ownDatabase: true });
let t: TestTenant;

beforeAll(async () => {
  t = await newTenant(h);
  await h.knex.raw(`
    CREATE FUNCTION test_fail_handoff() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'injected fault for %', NEW.event_id; END $$`);
  await h.knex.raw(`
    CREATE TRIGGER test_fail_handoff BEFORE INSERT ON webhook_handoffs
      FOR EACH ROW WHEN (NEW.event_id LIKE 'evt_fault_%') EXECUTE FUNCTION test_fail_handoff()`);
});

describe('the ingest statement', () => {
  it('stores nothing when its outbox insert fails, and the retry is taken as new and applied once', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const id = `evt_fault_${uniq('x')}`;
    const data = { transactionId: uniq('txn'), cardId: card.partnerCardId, amount: 1_200, currency: 'USD' };
    const stored = async () => ({
      deliveries: (
        await h.knex('webhook_deliveries').where({ tenantId: t.id }).whereLike('rawBody', `%${id}%`)
      ).length,
      keys: (await h.knex('webhook_event_keys').where({ tenantId: t.id, eventId: id })).length,
      handoffs: (await h.knex('webhook_handoffs').where({ tenantId: t.id, eventId: id })).length,
      outcomes: (await h.knex('webhook_outcomes').where({ tenantId: t.id, eventId: id })).length,
    });

    const failed = await sendEvent(h, t, 'transaction.cleared', data, { id });
    expect(failed.status).toBeGreaterThanOrEqual(500); // the partner retries a 5xx
    expect(await stored()).toEqual({ deliveries: 0, keys: 0, handoffs: 0, outcomes: 0 });

    await h.knex.raw('DROP TRIGGER test_fail_handoff ON webhook_handoffs');
    const retried = await sendEvent(h, t, 'transaction.cleared', data, { id });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ received: true, duplicate: false });
    await eventually(async () => (await outcomesOf(h, retried.body.id)).includes('applied'));
    expect(await outcomesOf(h, retried.body.id)).toEqual(['applied']);
    expect(await stored()).toEqual({ deliveries: 1, keys: 1, handoffs: 1, outcomes: 1 });
    const view = await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey });
    expect(view.body.balances.captured).toBe(1_200);
  });
});
