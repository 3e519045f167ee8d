import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq } from './helpers/fixtures';
import { sendEvent } from './helpers/webhooks';
import { eventually, inMs } from './helpers/wait';

const h = useHarness();

const APPEND_ONLY = [
  'card_events',
  'tenant_policies',
  'audit_events',
  'webhook_deliveries',
  'webhook_outcomes',
  'transaction_events',
  'admin_actions',
  'admin_action_decisions',
];

describe('append-only tables', () => {
  it('have a trigger that rejects UPDATE and DELETE on each of them', async () => {
    const triggers = await h
      .knex('information_schema.triggers')
      .select('eventObjectTable', 'eventManipulation')
      .where('triggerName', 'like', '%_append_only');
    for (const table of APPEND_ONLY) {
      const ops = triggers
        .filter((t) => t.eventObjectTable === table)
        .map((t) => t.eventManipulation)
        .sort();
      expect({ table, ops }).toEqual({ table, ops: ['DELETE', 'UPDATE'] });
    }
    // And no other table has one: the list above is every append-only table.
    expect([...new Set(triggers.map((t) => t.eventObjectTable))].sort()).toEqual([...APPEND_ONLY].sort());
  });

  it('reject UPDATE and DELETE of a row in each of the eight, and keep the row', async () => {
    // Rows in every table: a tenant (its policy), a card (its events), a delivery with its
    // outcome and transaction event, an operator's action with its decision, a reveal's audit.
    const t = await newTenant(h);
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const cleared = await sendEvent(h, t, 'transaction.cleared', {
      transactionId: uniq('txn'),
      cardId: card.partnerCardId,
      amount: 500,
      currency: 'USD',
    });
    expect(cleared.status).toBe(200);
    const action = await h.request('POST', `/admin/cards/${card.id}/actions`, {
      key: t.operatorKey,
      body: {
        type: 'extend_expiry',
        params: { expiresAt: inMs(400 * 86_400_000) },
        reason: 'append-only test',
      },
    });
    expect(action.body.status).toBe('applied');
    expect((await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: t.appKey })).status).toBe(200);
    await eventually(
      async () => (await h.knex('transaction_events').where({ cardId: card.id })).length === 1,
    );

    for (const table of APPEND_ONLY) {
      const [{ column }] = (
        await h.knex.raw(
          `SELECT column_name AS column FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position LIMIT 1`,
          [table],
        )
      ).rows;
      // One row, by its physical id: other test files write these tables at the same time, so the
      // row itself (not the table's count) is what must survive unchanged.
      const picked = (
        await h.knex.raw(`SELECT ctid::text AS ctid, to_jsonb(t) AS row FROM ?? t LIMIT 1`, [table])
      ).rows[0] as { ctid: string; row: unknown } | undefined;
      expect({ table, found: picked !== undefined }).toEqual({ table, found: true });
      await expect(
        h.knex.raw(`UPDATE ?? SET ?? = ?? WHERE ctid = ?::tid`, [table, column, column, picked!.ctid]),
      ).rejects.toThrow(/append-only/);
      await expect(h.knex.raw(`DELETE FROM ?? WHERE ctid = ?::tid`, [table, picked!.ctid])).rejects.toThrow(
        /append-only/,
      );
      const after = (
        await h.knex.raw(`SELECT to_jsonb(t) AS row FROM ?? t WHERE ctid = ?::tid`, [table, picked!.ctid])
      ).rows[0] as { row: unknown } | undefined;
      expect({ table, row: after?.row }).toEqual({ table, row: picked!.row });
    }
  });

  it('reject UPDATE and DELETE of a card event and a policy version', async () => {
    const t = await newTenant(h);
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    await expect(
      h.knex('card_events').where({ cardId: card.id }).update({ cause: 'rewritten' }),
    ).rejects.toThrow(/append-only/);
    await expect(h.knex('card_events').where({ cardId: card.id }).delete()).rejects.toThrow(/append-only/);
    await expect(h.knex('tenant_policies').where({ tenantId: t.id }).update({ reason: 'x' })).rejects.toThrow(
      /append-only/,
    );
    await expect(h.knex('tenant_policies').where({ tenantId: t.id }).delete()).rejects.toThrow(/append-only/);
    // In the order they were written (a heap scan's order is not; seen reversed once in CI).
    const events = await h.knex('card_events').where({ cardId: card.id }).orderBy('id');
    expect(events.map((e) => e.cause)).toEqual(['issue_requested', 'issued']);
  });

  it('enforce enumerated states with CHECK constraints', async () => {
    const t = await newTenant(h);
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    await expect(h.knex('cards').where({ id: card.id }).update({ status: 'stolen' })).rejects.toThrow(
      /cards_status_check/,
    );
    await expect(h.knex('users').where({ id: user.id }).update({ status: 'gone' })).rejects.toThrow(
      /users_status_check/,
    );
  });
});
