import { cardWorkflowId } from '../src/domain/ids';
import { CardStatusSA } from '../src/workflows/search-attributes';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';

const h = useHarness();
let t: TestTenant;
beforeAll(async () => {
  t = await newTenant(h);
});

async function sandboxStatus(partnerCardId: string): Promise<string> {
  return (await h.knex('sandbox.cards').where({ id: partnerCardId }).first()).status;
}

describe('freeze, unfreeze and cancel through the card workflow', () => {
  it('moves the card, records each transition with its actor, tells the partner and keeps the search attribute current', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const frozen = await h.request('POST', `/v1/cards/${card.id}/freeze`, {
      key: t.appKey,
      body: { reason: 'lost phone' },
    });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({ id: card.id, status: 'frozen', frozenBy: 'app' });
    expect(await sandboxStatus(card.partnerCardId)).toBe('frozen');
    const handle = h.temporal.workflow.getHandle(cardWorkflowId(t.id, card.id));
    expect((await handle.describe()).typedSearchAttributes.get(CardStatusSA)).toBe('frozen');

    const again = await h.request('POST', `/v1/cards/${card.id}/freeze`, { key: t.appKey });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CARD_TRANSITION_NOT_ALLOWED');

    expect((await h.request('POST', `/v1/cards/${card.id}/unfreeze`, { key: t.appKey })).body.status).toBe(
      'active',
    );
    expect(await sandboxStatus(card.partnerCardId)).toBe('active');
    expect((await h.request('POST', `/v1/cards/${card.id}/cancel`, { key: t.appKey })).body.status).toBe(
      'canceled',
    );
    expect(await sandboxStatus(card.partnerCardId)).toBe('canceled');

    const late = await h.request('POST', `/v1/cards/${card.id}/unfreeze`, { key: t.appKey });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('CARD_TRANSITION_NOT_ALLOWED');

    const events = await h.knex('card_events').where({ cardId: card.id }).orderBy('id');
    expect(events.map((e) => `${e.fromStatus ?? '∅'}→${e.toStatus}:${e.actorType}`)).toEqual([
      '∅→pending:app',
      'pending→active:system',
      'active→frozen:app',
      'frozen→active:app',
      'active→canceled:app',
    ]);
    expect(events[2].reason).toBe('lost phone');
  });

  it('does not let the app lift a freeze that an operator placed', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    // An operator's freeze goes through the same workflow update (the admin API arrives with the controls issue).
    const { changeStatusUpdate } = await import('../src/workflows/messages');
    await h.temporal.workflow.getHandle(cardWorkflowId(t.id, card.id)).executeUpdate(changeStatusUpdate, {
      args: [{ transition: 'freeze', actor: { type: 'operator', id: 'key_op' }, reason: 'fraud review' }],
    });
    const res = await h.request('POST', `/v1/cards/${card.id}/unfreeze`, { key: t.appKey });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CARD_FROZEN_BY_OPERATOR');
    expect((await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body).toMatchObject({
      status: 'frozen',
      frozenBy: 'operator',
    });
  });

  it('applies a retried status change with the same Idempotency-Key once', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const key = uniq('idem');
    const first = await h.request('POST', `/v1/cards/${card.id}/freeze`, {
      key: t.appKey,
      headers: { 'idempotency-key': key },
    });
    const second = await h.request('POST', `/v1/cards/${card.id}/freeze`, {
      key: t.appKey,
      headers: { 'idempotency-key': key },
    });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const freezes = await h.knex('card_events').where({ cardId: card.id, toStatus: 'frozen' });
    expect(freezes).toHaveLength(1);
  });

  it('serialises concurrent changes on one card: exactly one freeze wins', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const results = await Promise.all(
      Array.from({ length: 8 }, () => h.request('POST', `/v1/cards/${card.id}/freeze`, { key: t.appKey })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    expect(await h.knex('card_events').where({ cardId: card.id, toStatus: 'frozen' })).toHaveLength(1);
  });
});
