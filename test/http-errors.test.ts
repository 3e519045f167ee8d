import { useHarness } from './helpers/harness';
import { newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';

const h = useHarness();
let t: TestTenant;
beforeAll(async () => {
  t = await newTenant(h);
});

const expectError = (
  res: { status: number; body: any; headers: Headers },
  status: number,
  code: string,
): void => {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.headers.get('x-request-id')).toBeTruthy();
};

describe('bad input gets a 4xx with the error shape, never a 500', () => {
  it('malformed JSON → 400 INVALID_JSON', async () => {
    for (const raw of ['{bad', '{"externalId":', 'nul', '[1,2']) {
      const res = await h.request('POST', '/v1/users', {
        key: t.appKey,
        rawBody: raw,
        headers: { 'content-type': 'application/json' },
      });
      expectError(res, 400, 'INVALID_JSON');
    }
    // Without a content type (fetch sends text/plain for a string body), JSON is not read at all.
    const res = await h.request('POST', '/v1/users', { key: t.appKey, rawBody: '{oops' });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('a body over 1 MB → 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ externalId: 'x', name: 'y'.repeat(1024 * 1024 + 10), region: 'US' });
    const res = await h.request('POST', '/v1/users', {
      key: t.appKey,
      rawBody: big,
      headers: { 'content-type': 'application/json' },
    });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('wrongly typed fields → 400 VALIDATION_FAILED with field details', async () => {
    const user = await newUser(h, t);
    const cases: Array<[string, unknown, string]> = [
      ['/v1/users', { externalId: 5, name: 'x', region: 'US' }, 'externalId'],
      ['/v1/users', { externalId: 'e', name: 'x', region: 'California' }, 'region'],
      ['/v1/cards', { userId: user.id, currency: 'usd' }, 'currency'],
      [
        '/v1/cards',
        {
          userId: user.id,
          currency: 'USD',
          controls: { spendingLimits: [{ amount: 10.5, interval: 'all_time' }] },
        },
        'controls.spendingLimits.0.amount',
      ],
      [
        '/v1/cards',
        {
          userId: user.id,
          currency: 'USD',
          controls: { spendingLimits: [{ amount: 100, interval: 'hourly' }] },
        },
        'controls.spendingLimits.0.interval',
      ],
      [
        '/v1/cards',
        {
          userId: user.id,
          currency: 'USD',
          controls: { spendingLimits: [{ amount: '100', interval: 'daily' }] },
        },
        'controls.spendingLimits.0.amount',
      ],
      ['/v1/cards', { userId: user.id, currency: 'USD', expiresAt: 'next tuesday' }, 'expiresAt'],
      ['/v1/cards', { userId: user.id, currency: 'USD', surprise: true }, ''],
      ['/v1/cards', [1, 2, 3], ''],
    ];
    for (const [path, body, field] of cases) {
      const res = await h.request('POST', path, {
        key: t.appKey,
        body,
        headers: { 'idempotency-key': uniq('k') },
      });
      expectError(res, 400, 'VALIDATION_FAILED');
      const paths = (res.body.error.details.fields as Array<{ path: string }>).map((f) => f.path);
      expect({ path, body, fields: paths }).toEqual({ path, body, fields: expect.arrayContaining([field]) });
    }
  });

  it('NUL characters in strings → 400, not a database error', async () => {
    const res = await h.request('POST', '/v1/users', {
      key: t.appKey,
      body: { externalId: 'a\u0000b', name: 'x', region: 'US' },
    });
    expectError(res, 400, 'VALIDATION_FAILED');
    expectError(await h.request('GET', '/v1/cards?userId=%00', { key: t.appKey }), 400, 'VALIDATION_FAILED');
  });

  it('deeply nested JSON → 400, not a stack overflow', async () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const res = await h.request('POST', '/v1/cards', {
      key: t.appKey,
      rawBody: deep,
      headers: { 'content-type': 'application/json', 'idempotency-key': uniq('k') },
    });
    expectError(res, 400, 'VALIDATION_FAILED');
    const unauth = await h.request('POST', '/v1/users', {
      rawBody: deep,
      headers: { 'content-type': 'application/json' },
    });
    expect(unauth.status).toBeLessThan(500);
  });

  it('refuses spending limits that never accumulate', async () => {
    const user = await newUser(h, t);
    for (const spendingLimits of [[], [{ amount: 500, interval: 'per_authorization' }]]) {
      const res = await h.request('POST', '/v1/cards', {
        key: t.appKey,
        body: { userId: user.id, currency: 'USD', controls: { spendingLimits } },
        headers: { 'idempotency-key': uniq('k') },
      });
      expectError(res, 400, 'VALIDATION_FAILED');
    }
  });

  it('unknown routes → 404, wrong methods → 405, bad cursors and ids → 4xx', async () => {
    expectError(await h.request('GET', '/v2/nothing', { key: t.appKey }), 404, 'ROUTE_NOT_FOUND');
    expectError(await h.request('DELETE', '/v1/cards', { key: t.appKey }), 405, 'METHOD_NOT_ALLOWED');
    expectError(await h.request('GET', '/v1/cards?cursor=%%%', { key: t.appKey }), 400, 'VALIDATION_FAILED');
    expectError(
      await h.request('GET', '/v1/cards?limit=100000', { key: t.appKey }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await h.request('GET', '/v1/cards/%00', { key: t.appKey }), 400, 'VALIDATION_FAILED');
    expectError(await h.request('POST', '/v1/cards/card_nope/freeze', { key: t.appKey }), 404, 'NOT_FOUND');
  });

  it('echoes a sane X-Request-Id and makes one otherwise', async () => {
    const mine = await h.request('GET', '/healthz', { headers: { 'x-request-id': 'abc12345-trace' } });
    expect(mine.headers.get('x-request-id')).toBe('abc12345-trace');
    const made = await h.request('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('reports readiness of PostgreSQL and Temporal', async () => {
    expect((await h.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await h.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
  });
});
