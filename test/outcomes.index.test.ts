import { startHarness, type Harness } from './helpers/harness';
import { newTenant, type TestTenant } from './helpers/fixtures';
import { preparedStatement } from '../src/db/prepared';
import { newId } from '../src/lib/ids';
import {
  latestOutcome,
  outcomeBindings,
  recordOutcome,
  supersedingOutcomeSql,
  type OutcomeRow,
} from '../src/webhooks/outcomes';

/** The one-final-outcome rule as the database holds it (webhook_outcomes_one_final) and its writer uses it. */
let h: Harness;
let t: TestTenant;
beforeAll(async () => {
  h = await startHarness({ worker: false });
  t = await newTenant(h);
});
afterAll(() => h.stop());

/** A stored delivery of the tenant's sandbox subscription, with no outcome yet. */
async function delivery(): Promise<string> {
  const id = newId('webhookEvent');
  await h.knex('webhook_deliveries').insert({
    id,
    tenantId: t.id,
    subscriptionId: new URL(t.sandboxWebhookUrl).pathname.split('/').pop(),
    partner: 'sandbox',
    headers: JSON.stringify({}),
    rawBody: Buffer.from('{}'),
  });
  return id;
}
const rowsOf = (deliveryId: string) =>
  h.knex('webhook_outcomes').where({ tenantId: t.id, deliveryId }).orderBy('id');
const row = (deliveryId: string, o: Partial<OutcomeRow> = {}): OutcomeRow => ({
  tenantId: t.id,
  deliveryId,
  outcome: 'applied',
  eventId: 'evt_1',
  eventType: 'authorization.request',
  ...o,
});

describe('one final outcome per delivery and event', () => {
  it('keeps the first of two final outcomes on one delivery and event, and says the second was not written', async () => {
    const d = await delivery();
    expect(await recordOutcome(h.knex, row(d, { details: { standIn: true } }))).toBe(true);
    expect(await recordOutcome(h.knex, row(d, { details: { source: 'partner' } }))).toBe(false);
    expect(await recordOutcome(h.knex, row(d, { outcome: 'duplicate' }))).toBe(false);
    const rows = await rowsOf(d);
    expect(rows.map((r) => [r.outcome, r.details])).toEqual([['applied', { standIn: true }]]);
  });

  it('writes exactly one of many concurrent final outcomes', async () => {
    const d = await delivery();
    const wrote = await Promise.all(
      (['applied', 'duplicate', 'applied', 'ignored', 'duplicate', 'applied'] as const).map((outcome, i) =>
        recordOutcome(h.knex, row(d, { outcome, details: { n: i } })),
      ),
    );
    expect(wrote.filter(Boolean)).toHaveLength(1);
    expect(await rowsOf(d)).toHaveLength(1);
  });

  it('holds without its writer too: a plain second insert is refused by the index', async () => {
    const d = await delivery();
    await recordOutcome(h.knex, row(d));
    await expect(
      h
        .knex('webhook_outcomes')
        .insert({ tenantId: t.id, deliveryId: d, outcome: 'applied', eventId: 'evt_1' }),
    ).rejects.toThrow(/webhook_outcomes_one_final/);
  });

  it('counts a delivery that never reached an event (null event id) once', async () => {
    const d = await delivery();
    expect(await recordOutcome(h.knex, row(d, { outcome: 'rejected', eventId: null }))).toBe(true);
    expect(await recordOutcome(h.knex, row(d, { outcome: 'rejected', eventId: null }))).toBe(false);
    expect(await rowsOf(d)).toHaveLength(1);
  });

  it('leaves outside the rule: other events of the delivery, parked, an operator’s replay', async () => {
    const d = await delivery();
    expect(await recordOutcome(h.knex, row(d, { outcome: 'parked', eventId: 'evt_2' }))).toBe(true);
    expect(await recordOutcome(h.knex, row(d, { outcome: 'applied', eventId: 'evt_2' }))).toBe(true);
    expect(await recordOutcome(h.knex, row(d, { eventId: 'evt_1' }))).toBe(true);
    expect(await recordOutcome(h.knex, row(d, { outcome: 'duplicate', details: { replay: true } }))).toBe(
      true,
    );
    expect(await recordOutcome(h.knex, row(d, { outcome: 'applied', details: { replay: true } }))).toBe(true);
    expect((await rowsOf(d)).map((r) => `${r.eventId}:${r.outcome}`)).toEqual([
      'evt_2:parked',
      'evt_2:applied',
      'evt_1:applied',
      'evt_1:duplicate',
      'evt_1:applied',
    ]);
  });
});

describe('the stand-in’s outcome (the answer the partner was given)', () => {
  const SUPERSEDING = preparedStatement(
    'test_superseding_outcome',
    `WITH ${supersedingOutcomeSql(
      'o',
      `SELECT :tenantId::text, :deliveryId::text, :outcome::text, :eventId::text, :eventType::text,
              :cardId::text, :error::text, :details::text`,
    )} SELECT (SELECT count(*) FROM o)::int AS plain, (SELECT count(*) FROM o_superseding)::int AS superseding`,
  );
  const standIn = (d: string, extra: Record<string, unknown> = {}) =>
    SUPERSEDING.run(
      h.knex,
      outcomeBindings(
        row(d, { details: { standIn: true, decision: { declineCode: 'STAND_IN' }, ...extra } }),
      ),
    );

  it('is a plain final outcome when it is the first', async () => {
    const d = await delivery();
    expect(await standIn(d)).toEqual([{ plain: 1, superseding: 0 }]);
    expect(await recordOutcome(h.knex, row(d, { details: { source: 'partner' } }))).toBe(false);
    const rows = await rowsOf(d);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toEqual({ standIn: true, decision: { declineCode: 'STAND_IN' } });
  });

  it('supersedes, explicitly, a final outcome the card recorded first, and is then the latest', async () => {
    const d = await delivery();
    await recordOutcome(h.knex, row(d, { details: { source: 'partner', decision: { approved: true } } }));
    expect(await standIn(d)).toEqual([{ plain: 0, superseding: 1 }]);
    const rows = await rowsOf(d);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.details).toMatchObject({ standIn: true, supersedes: Number(rows[0]!.id) });
    expect(latestOutcome(rows)!.details).toMatchObject({ standIn: true });
    // Nothing else is written after it.
    expect(await recordOutcome(h.knex, row(d, { outcome: 'duplicate' }))).toBe(false);
    expect(await rowsOf(d)).toHaveLength(2);
  });

  it('in an operator’s replay is that pass’s outcome, never a supersession', async () => {
    const d = await delivery();
    await recordOutcome(h.knex, row(d));
    expect(await standIn(d, { replay: true })).toEqual([{ plain: 1, superseding: 0 }]);
    expect((await rowsOf(d))[1]!.details).not.toHaveProperty('supersedes');
  });
});

describe('the latest outcome of a delivery, as the operators’ views show it', () => {
  it('never lets a duplicate of the delivery’s own processing outrank its answer; a replay’s outcome is the latest', async () => {
    const d = await delivery();
    await recordOutcome(h.knex, row(d, { eventId: 'evt_a', outcome: 'applied' }));
    await recordOutcome(h.knex, row(d, { eventId: 'evt_b', outcome: 'duplicate' }));
    const detail = async () =>
      (await h.request('GET', `/admin/webhook-events/${d}`, { key: t.operatorKey })).body.outcome;
    const listed = async () =>
      (
        await h.request('GET', `/admin/webhook-events?outcome=applied&limit=100`, { key: t.operatorKey })
      ).body.data.some((x: { id: string }) => x.id === d);
    expect(await detail()).toBe('applied');
    expect(await listed()).toBe(true);
    await recordOutcome(
      h.knex,
      row(d, { eventId: 'evt_a', outcome: 'duplicate', details: { replay: true } }),
    );
    expect(await detail()).toBe('duplicate');
    expect(await listed()).toBe(false);
  });
});
