/**
 * The Lithic adapter's outbound calls, through the official SDK, against a fake of Lithic's cards
 * API (a real HTTP server shaped by the SDK's types; Lithic publishes no mock). The fake keeps
 * state, so what it holds after the calls is part of what is checked.
 */
import type { CreatePartnerCardInput, PartnerCredentials } from '../src/partners/adapter';
import { createLithicAdapter } from '../src/partners/lithic';
import { startLithicFake, type LithicFake } from './helpers/lithic-fake';
import {
  cardTransactionUpdated,
  lithicDelivery,
  lithicEvent,
  lithicSecret,
  lithicTransaction,
} from './helpers/lithic-fixtures';

const lithic = createLithicAdapter();
const input = (ref: string): CreatePartnerCardInput => ({
  programId: 'ten_lithic',
  platformCardRef: ref,
  expiresAt: new Date('2029-11-30T00:00:00Z'),
  currency: 'USD',
});

describe('Lithic adapter against the fake cards API', () => {
  let fake: LithicFake;
  let credentials: PartnerCredentials;
  beforeEach(async () => {
    fake = await startLithicFake();
    credentials = {
      tenantId: 'ten_lithic',
      subscriptionId: `psub_l${Math.random().toString(36).slice(2, 10)}`,
      apiKey: fake.apiKey,
      apiBaseUrl: fake.url,
    };
  });
  afterEach(() => fake.close());

  it('creates a virtual card under the Idempotency-Key header, and invents no number for a program without PCI clearance', async () => {
    const card = await lithic.createCard(credentials, input('card_one'));
    const [create, retrieve] = fake.calls;
    expect(create).toMatchObject({
      method: 'POST',
      path: '/v1/cards',
      idempotencyKey: 'vcn:card:card_one',
      body: { type: 'VIRTUAL', memo: 'card_one', state: 'OPEN' },
      status: 200,
    });
    // The key travels as a header, not in the body.
    expect(create!.body).not.toHaveProperty('Idempotency-Key');
    expect(retrieve).toMatchObject({ method: 'GET', path: `/v1/cards/${card.partnerCardId}` });
    expect(card).toMatchObject({ number: null, cvc: null, expMonth: 11 });
    expect(card.last4).toBe(fake.cards.get(card.partnerCardId)!.last_four);
  });

  it('gets the same card back when the create is retried with its key', async () => {
    const first = await lithic.createCard(credentials, input('card_retry'));
    const again = await lithic.createCard(credentials, input('card_retry'));
    expect(again.partnerCardId).toBe(first.partnerCardId);
    expect(fake.cards.size).toBe(1);
    expect(fake.calls.filter((c) => c.method === 'POST').map((c) => c.idempotencyKey)).toEqual([
      'vcn:card:card_retry',
      'vcn:card:card_retry',
    ]);
  });

  it('takes the number from the create for a PCI-cleared program', async () => {
    const pci = await startLithicFake({ pci: true });
    try {
      const creds = { ...credentials, subscriptionId: 'psub_lpci', apiKey: pci.apiKey, apiBaseUrl: pci.url };
      const card = await lithic.createCard(creds, input('card_pci'));
      expect(card.number).toMatch(/^[0-9]{16}$/);
      expect(card.number!.slice(-4)).toBe(card.last4);
      expect(pci.calls.map((c) => c.method)).toEqual(['POST']);
    } finally {
      await pci.close();
    }
  });

  it('pauses, reopens and closes through state, and a closed card stays closed', async () => {
    const { partnerCardId } = await lithic.createCard(credentials, input('card_state'));
    const set = (status: 'active' | 'frozen' | 'canceled') =>
      lithic.updateCardStatus(credentials, { programId: 'ten_lithic', partnerCardId, status });
    await set('frozen');
    expect(fake.cards.get(partnerCardId)!.state).toBe('PAUSED');
    await set('active');
    await set('canceled');
    await set('canceled'); // absolute: a retry is harmless
    expect(
      fake.calls.filter((c) => c.method === 'PATCH').map((c) => [c.path, c.body, c.idempotencyKey]),
    ).toEqual([
      [`/v1/cards/${partnerCardId}`, { state: 'PAUSED' }, null],
      [`/v1/cards/${partnerCardId}`, { state: 'OPEN' }, null],
      [`/v1/cards/${partnerCardId}`, { state: 'CLOSED' }, null],
      [`/v1/cards/${partnerCardId}`, { state: 'CLOSED' }, null],
    ]);
    await expect(set('active')).rejects.toMatchObject({ status: 400 });
  });

  it('pages the card listing with page_size and starting_after', async () => {
    const made = [];
    for (const ref of ['a', 'b', 'c'])
      made.push((await lithic.createCard(credentials, input(ref))).partnerCardId);
    await lithic.updateCardStatus(credentials, {
      programId: 'ten_lithic',
      partnerCardId: made[1]!,
      status: 'frozen',
    });
    const first = await lithic.listCards(credentials, { programId: 'ten_lithic', cursor: null, limit: 2 });
    const second = await lithic.listCards(credentials, {
      programId: 'ten_lithic',
      cursor: first.nextCursor,
      limit: 2,
    });
    expect([...first.data, ...second.data].map((c) => [c.partnerCardId, c.status])).toEqual([
      [made[0], 'active'],
      [made[1], 'frozen'],
      [made[2], 'active'],
    ]);
    expect(second.nextCursor).toBeNull();
    expect(
      fake.calls.filter((c) => c.path === '/v1/cards' && c.method === 'GET').map((c) => c.query),
    ).toEqual([{ page_size: '2' }, { page_size: '2', starting_after: made[1] }]);
  });

  it('lists transaction records named like the webhook’s events, so a webhook after a heal is a duplicate', async () => {
    const auth = lithicEvent('AUTHORIZATION', 1_000);
    const up = lithicEvent('AUTHORIZATION_ADVICE', 1_600);
    const clearing = lithicEvent('CLEARING', 1_600);
    const tx = lithicTransaction([auth, up, clearing], {
      created: '2026-11-30T10:00:00.000Z',
      status: 'SETTLED',
    });
    const ret = lithicTransaction([lithicEvent('RETURN', 200)], {
      token: 'c0ffee00-0000-4000-8000-000000000002',
      created: '2026-11-30T12:00:00.000Z',
    });
    const outside = lithicTransaction([lithicEvent('AUTHORIZATION', 5)], {
      token: 'c0ffee00-0000-4000-8000-000000000003',
      created: '2026-12-02T00:00:00.000Z',
    });
    for (const t of [tx, ret, outside]) fake.addTransaction(t);
    const window = { from: new Date('2026-11-30T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
    const first = await lithic.listTransactions(credentials, {
      programId: 'ten_lithic',
      ...window,
      cursor: null,
      limit: 1,
    });
    const second = await lithic.listTransactions(credentials, {
      programId: 'ten_lithic',
      ...window,
      cursor: first.nextCursor,
      limit: 1,
    });
    expect(second.nextCursor).toBeNull();
    const records = [...first.data, ...second.data];
    expect(records.map((r) => [r.type, r.partnerTransactionId, r.amount, r.approved, r.eventId])).toEqual([
      ['authorization', tx.token, 1_000, true, auth.token],
      ['authorization', tx.token, 600, true, up.token],
      ['clearing', tx.token, 1_600, null, clearing.token],
      ['refund', `refund:${ret.token}`, 200, null, ret.events![0]!.token],
    ]);
    expect(fake.calls.filter((c) => c.path === '/v1/transactions').map((c) => c.query)).toEqual([
      { begin: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z', page_size: '1' },
      {
        begin: '2026-11-30T00:00:00.000Z',
        end: '2026-12-01T00:00:00.000Z',
        page_size: '1',
        starting_after: tx.token,
      },
    ]);
    // The webhook of the same transaction names its events with the same ids.
    const normalized = lithic.normalize(lithicDelivery(cardTransactionUpdated(tx), lithicSecret()));
    expect(normalized.ok && normalized.events.map((e) => e.eventId)).toEqual([
      auth.token,
      up.token,
      clearing.token,
    ]);
  });

  it('sends the subscription’s key and forgets a client when asked', async () => {
    await lithic.listCards(credentials, { programId: 'ten_lithic', cursor: null, limit: 10 });
    const rotated = { ...credentials, apiKey: 'an-old-key' };
    await expect(
      lithic.listCards(rotated, { programId: 'ten_lithic', cursor: null, limit: 10 }),
    ).rejects.toMatchObject({
      status: 401,
    });
    lithic.forgetClient(credentials.subscriptionId);
    await expect(
      lithic.listCards(credentials, { programId: 'ten_lithic', cursor: null, limit: 10 }),
    ).resolves.toMatchObject({
      data: [],
    });
  });
});
