import { normalizeSandbox, normalizeSandboxDelivery } from './normalize';

const env = (type: string, data: Record<string, unknown>) => ({
  id: 'evt_1',
  type,
  created: '2026-11-25T10:00:00Z',
  data,
});
const merchant = { name: 'Cafe', mcc: '5814', country: 'US', region: 'US-CA' };

describe('sandbox normalization', () => {
  it('maps every sandbox type to its canonical event', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [
        'authorization.request',
        { transactionId: 't', cardId: 'c', amount: 100, currency: 'USD', merchant },
        'authorization.request',
      ],
      [
        'authorization.advice',
        { transactionId: 't', cardId: 'c', amount: 100, currency: 'USD', merchant, approved: true },
        'authorization.advice',
      ],
      [
        'authorization.incremented',
        { transactionId: 't', cardId: 'c', amount: 5 },
        'authorization.increment',
      ],
      ['authorization.reversed', { transactionId: 't', cardId: 'c', amount: 5 }, 'authorization.reversal'],
      ['authorization.expired', { transactionId: 't', cardId: 'c' }, 'authorization.expiry'],
      ['transaction.cleared', { transactionId: 't', cardId: 'c', amount: 90, currency: 'USD' }, 'clearing'],
      ['transaction.refunded', { refundId: 'r', cardId: 'c', amount: 10, currency: 'USD' }, 'refund'],
      ['card.updated', { cardId: 'c', status: 'frozen' }, 'card.status'],
    ];
    for (const [type, data, kind] of cases) {
      const r = normalizeSandbox(env(type, data));
      expect(r).toMatchObject({
        ok: true,
        eventId: 'evt_1',
        type,
        events: [
          {
            eventId: 'evt_1',
            kind,
            partner: 'sandbox',
            partnerCardId: 'c',
            occurredAtMs: Date.parse('2026-11-25T10:00:00Z'),
          },
        ],
      });
      // A sandbox delivery carries exactly one event.
      expect(r.ok && r.events).toHaveLength(1);
    }
  });

  it('tells unknown types from malformed ones', () => {
    expect(normalizeSandbox(env('card.shipped', {}))).toEqual({
      ok: false,
      reason: 'unknown_type',
      eventId: 'evt_1',
      type: 'card.shipped',
    });
    expect(
      normalizeSandbox(
        env('transaction.cleared', { transactionId: 't', cardId: 'c', amount: 1.5, currency: 'USD' }),
      ),
    ).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(
      normalizeSandbox(
        env('transaction.cleared', { transactionId: 't', cardId: 'c', amount: 100, currency: 'usd' }),
      ),
    ).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(normalizeSandbox({ type: 'card.updated' })).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(normalizeSandbox([1, 2])).toMatchObject({ ok: false, reason: 'unparseable' });
    expect(
      normalizeSandbox({ ...env('card.updated', { cardId: 'c', status: 'active' }), created: 'yesterday' }),
    ).toMatchObject({ ok: false, reason: 'unparseable' });
  });

  it('reads the delivery’s bytes: a body that is not JSON is unparseable, a JSON one is normalized', () => {
    expect(normalizeSandboxDelivery(Buffer.from('{"id":'))).toEqual({
      ok: false,
      reason: 'unparseable',
      message: 'the body is not valid JSON',
    });
    const raw = Buffer.from(JSON.stringify(env('card.updated', { cardId: 'c', status: 'frozen' })));
    expect(normalizeSandboxDelivery(raw)).toEqual(normalizeSandbox(JSON.parse(raw.toString())));
  });
});
