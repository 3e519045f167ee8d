import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/api/app';
import knexFactory from 'knex';
import { createLogger } from '../src/lib/logger';
import { startHarness, type Harness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';
import { sandboxProgramKey } from '../src/partners/sandbox/listing';
import { MAX_AMOUNT } from '../src/domain/money';
import { outcomesOf, sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';

let h: Harness;
let t: TestTenant;
beforeAll(async () => {
  h = await startHarness();
  t = await newTenant(h);
});
afterAll(() => h.stop());

const expectError = (res: { status: number; body: any }, status: number, code: string): void => {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
};

/**
 * Writes `chunks` on one raw TCP connection, as a pooling proxy would (several requests, one
 * socket), and collects what comes back until the server closes the connection, `until` holds or
 * `waitMs` passes.
 */
function onOneSocket(
  baseUrl: string,
  chunks: Array<string | Buffer>,
  opts: { until?: (text: string) => boolean; waitMs?: number } = {},
): Promise<{ text: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(received).toString('latin1'), closedByServer });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 15_000);
    socket.on('data', (d) => {
      received.push(d);
      if (opts.until?.(Buffer.concat(received).toString('latin1'))) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // The server may close while we are still writing the refused body: that is the point.
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      for (const c of chunks) if (!socket.destroyed) socket.write(c);
    });
  });
}

const answers = (text: string): string[] => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];

describe('a refused body never stalls the connection it came on', () => {
  const big = Buffer.alloc(1024 * 1024 + 4096, 'a');
  const chunked = (path: string): Buffer =>
    Buffer.concat([
      Buffer.from(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.appKey}\r\n` +
          `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      ),
      Buffer.from(`${big.length.toString(16)}\r\n`),
      big,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
  const next = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';

  it('a chunked body over the limit → 413 with Connection: close, and the socket is closed', async () => {
    const r = await onOneSocket(h.baseUrl, [chunked('/v1/users'), next]);
    expect(answers(r.text)[0]).toBe('HTTP/1.1 413');
    expect(r.text).toMatch(/^connection: close\r$/im);
    expect(r.text).toContain('PAYLOAD_TOO_LARGE');
    // The client learns at once that the connection is gone (and retries elsewhere) instead of waiting.
    expect(r.closedByServer).toBe(true);
    expect(answers(r.text)).toHaveLength(1);
  });

  it('a declared Content-Length over the limit → 413 with Connection: close, and the socket is closed', async () => {
    const head =
      `POST /v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.appKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`;
    const r = await onOneSocket(h.baseUrl, [head, big.subarray(0, 1000)]);
    expect(answers(r.text)[0]).toBe('HTTP/1.1 413');
    expect(r.text).toMatch(/^connection: close\r$/im);
    expect(r.closedByServer).toBe(true);
  });

  it('a request within the limit keeps its connection alive for the next one', async () => {
    const r = await onOneSocket(h.baseUrl, [next, next], {
      until: (text) => (text.match(/"status":"ok"/g) ?? []).length === 2,
    });
    expect(answers(r.text)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(r.text).not.toMatch(/^connection: close\r$/im);
  });
});

describe('cursors and path parameters are validated on every route: 400, never 500', () => {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const at = '2026-01-01T00:00:00.000Z';
  const twoPart = [
    b64([at, 'card_\u0000']),
    b64(['-271821-04-20T00:00:00.000Z', 'card_x']),
    b64([at]),
    b64([at, null]),
    b64([at, 'card_x', 'extra']),
    b64(['2026-13-45T99:00:00.000Z', 'card_x']),
    b64({ at, id: 'card_x' }),
    b64("x' OR 1=1 --"),
    '%00',
  ];
  const threePart = [
    b64([at, 'webhook', 'whe_\u0000']),
    b64(['-271821-04-20T00:00:00.000Z', 'webhook', 'whe_x']),
    b64([at, 'webhook']),
    b64([at, 'nonsense', 'whe_x']),
  ];

  it('a cursor with a NUL id, a year of −271821, no id or any other shape → 400 VALIDATION_FAILED', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    expect(card.id).toMatch(/^card_/);
    const sandboxKey = sandboxProgramKey(h.vault, t.id);
    const routes: Array<[string, string, string[]]> = [
      ['/v1/cards', t.appKey, twoPart],
      [`/v1/cards/${card.id}/transactions`, t.appKey, twoPart],
      ['/admin/cards', t.operatorKey, twoPart],
      [`/admin/cards/${card.id}/transactions`, t.operatorKey, twoPart],
      ['/admin/actions', t.operatorKey, twoPart],
      ['/admin/approvals', t.operatorKey, twoPart],
      ['/admin/webhook-events', t.operatorKey, twoPart],
      ['/admin/reconciliations', t.operatorKey, twoPart],
      ['/admin/discrepancies', t.operatorKey, twoPart],
      ['/admin/policy/versions', t.operatorKey, twoPart],
      [`/admin/cards/${card.id}/timeline`, t.operatorKey, [...twoPart, ...threePart]],
      ['/sandbox/v1/cards', sandboxKey, twoPart],
      [`/sandbox/v1/transactions?from=${at}&to=2026-02-01T00:00:00.000Z`, sandboxKey, twoPart],
    ];
    for (const [path, key, cursors] of routes) {
      // The route answers a plain page first, so a 400 below is the cursor's doing.
      expect({ path, status: (await h.request('GET', path, { key })).status }).toEqual({ path, status: 200 });
      for (const cursor of cursors) {
        const sep = path.includes('?') ? '&' : '?';
        const res = await h.request('GET', `${path}${sep}cursor=${encodeURIComponent(cursor)}`, { key });
        expect({ path, cursor, status: res.status, code: res.body?.error?.code }).toEqual({
          path,
          cursor,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
    }
  });

  it('a NUL in any path parameter → 400; a partner named __proto__ → 404', async () => {
    for (const [method, path, key] of [
      ['GET', '/v1/cards/%00', t.appKey],
      ['GET', '/v1/cards/card_%00x/transactions', t.appKey],
      ['GET', '/admin/webhook-events/whe_%00', t.operatorKey],
      ['GET', '/admin/policy/versions/%00', t.operatorKey],
      ['GET', '/admin/partners/sandbox%00/subscriptions', t.operatorKey],
      ['POST', '/webhooks/sandbox/psub_%00', undefined],
      ['POST', '/admin/actions/act_%00/approve', t.approverKey],
    ] as const)
      expectError(
        await h.request(method, path, { key, ...(method === 'POST' ? { body: {} } : {}) }),
        400,
        'VALIDATION_FAILED',
      );
    for (const partner of ['__proto__', 'constructor', 'hasOwnProperty', 'toString'])
      for (const method of ['GET', 'POST'])
        expectError(
          await h.request(method, `/admin/partners/${partner}/subscriptions`, {
            key: t.operatorKey,
            ...(method === 'POST' ? { body: {}, headers: { 'idempotency-key': `k-${partner}` } } : {}),
          }),
          404,
          'NOT_FOUND',
        );
  });
});

describe('headers on every answer, probes, media types', () => {
  const expectDefaults = (res: { headers: Headers }, where: string): void => {
    expect({ where, nosniff: res.headers.get('x-content-type-options') }).toEqual({
      where,
      nosniff: 'nosniff',
    });
    expect({ where, csp: res.headers.get('content-security-policy') }).toEqual({
      where,
      csp: expect.stringContaining("default-src 'none'"),
    });
    expect({ where, cache: res.headers.get('cache-control') }).toEqual({ where, cache: 'no-store' });
  };

  it('nosniff, a CSP that loads nothing and no-store on answers, errors included', async () => {
    const user = await newUser(h, t);
    expectDefaults(await h.request('GET', '/healthz'), 'healthz');
    expectDefaults(await h.request('GET', '/readyz'), 'readyz');
    expectDefaults(await h.request('GET', `/v1/users/${user.id}`, { key: t.appKey }), 'authenticated');
    expectDefaults(await h.request('GET', '/admin/policy', { key: t.operatorKey }), 'operator');
    expectDefaults(await h.request('GET', '/v1/cards'), '401');
    expectDefaults(await h.request('GET', '/nothing'), '404');
    expectDefaults(await h.request('POST', '/v1/users', { key: t.appKey, body: {} }), '400');
    // The console's page keeps its own policy (it loads its own scripts).
    const page = await h.request('GET', '/console');
    if (page.status === 200) {
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('/readyz names the dependency that is down, never its error text', async () => {
    // (Quiet: knex's own log lines about the refused connection would be noise here.)
    const knex = knexFactory({
      client: 'pg',
      connection: 'postgres://nobody:secret-pw@127.0.0.1:1/nowhere',
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 1000,
      log: { warn() {}, error() {}, debug() {}, deprecate() {} },
    });
    const app = createApp({
      knex,
      temporal: h.temporal,
      vault: h.vault,
      logger: createLogger({ name: 'test-readyz', level: 'fatal', stdout: false }),
      cards: { taskQueue: h.taskQueue },
      config: {
        publicUrl: h.baseUrl,
        temporalUiUrl: 'http://127.0.0.1:8233',
        temporalNamespace: h.stack.temporalNamespace,
        bodyLimitBytes: 1024,
        sandboxEnabled: false,
      },
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(text)).toEqual({
        status: 'not_ready',
        checks: { postgres: 'unavailable', temporal: 'ok' },
      });
      expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|secret-pw|nobody|Error/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await knex.destroy();
    }
  });

  it('a JSON body under any other media type → 415 UNSUPPORTED_MEDIA_TYPE; webhooks store whatever comes', async () => {
    const body = JSON.stringify({ externalId: 'x', name: 'y', region: 'US' });
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      undefined,
    ]) {
      const res = await h.request('POST', '/v1/users', {
        key: t.appKey,
        rawBody: body,
        headers: type ? { 'content-type': type } : {},
      });
      // (fetch itself labels a string body text/plain when no type is given.)
      expect({ type, status: res.status, code: res.body?.error?.code }).toEqual({
        type,
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
    }
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'application/merge-patch+json',
    ]) {
      const res = await h.request('POST', '/v1/users', {
        key: t.appKey,
        rawBody: JSON.stringify({ externalId: `ext-${type.length}-${Date.now()}`, name: 'y', region: 'US' }),
        headers: { 'content-type': type },
      });
      expect({ type, status: res.status }).toEqual({ type, status: 201 });
    }
    // A POST without a body needs no content type.
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const frozen = await h.request('POST', `/v1/cards/${card.id}/freeze`, { key: t.appKey });
    expect({ status: frozen.status, body: frozen.body }).toMatchObject({ status: 200 });
    // A partner's delivery is stored whatever its type (and judged by its signature).
    const hook = await h.request('POST', new URL(t.sandboxWebhookUrl).pathname, {
      rawBody: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(hook.status).toBe(401);
    expect(await h.knex('webhook_deliveries').where({ id: hook.body.error.details.id })).toHaveLength(1);
  });
});

describe('amounts: a documented maximum on every input, sums that never leave the exact range', () => {
  it('two clearings of 2^53 − 1 are stored, rejected with the reason, and no card or list page breaks', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const transactionId = `tx-${Date.now()}`;
    for (let i = 0; i < 2; i++) {
      const res = await sendEvent(h, t, 'transaction.cleared', {
        transactionId,
        cardId: card.partnerCardId,
        amount: Number.MAX_SAFE_INTEGER,
        currency: 'USD',
      });
      expectError(res, 400, 'VALIDATION_FAILED');
      const id = res.body.error.details.id;
      expect(await outcomesOf(h, id)).toEqual(['rejected']);
      const stored = await h.knex('webhook_deliveries').where({ id }).first();
      expect(JSON.parse(stored.rawBody.toString('utf8')).data.amount).toBe(Number.MAX_SAFE_INTEGER);
      const outcome = await h.knex('webhook_outcomes').where({ deliveryId: id }).first();
      expect(outcome.error).toContain(String(MAX_AMOUNT));
    }
    // The largest accepted amount is booked.
    const ok = await sendEvent(h, t, 'transaction.cleared', {
      transactionId,
      cardId: card.partnerCardId,
      amount: MAX_AMOUNT,
      currency: 'USD',
    });
    expect(ok.status).toBe(200);
    const shown = await eventually(async () => {
      const r = await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey });
      return r.body?.balances?.captured === MAX_AMOUNT && r;
    });
    expect(shown.status).toBe(200);
    for (const [path, key] of [
      [`/v1/cards?userId=${user.id}`, t.appKey],
      [`/v1/cards/${card.id}/transactions`, t.appKey],
      [`/admin/cards/${card.id}`, t.operatorKey],
      [`/admin/cards/${card.id}/timeline`, t.operatorKey],
      [`/admin/webhook-events?cardId=${card.id}`, t.operatorKey],
    ])
      expect({ path, status: (await h.request('GET', path, { key })).status }).toEqual({ path, status: 200 });
  });

  it('a card whose transactions sum past 2^53 still answers, its totals held at the largest exact value', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    // Written straight to the table: 1,000 maximum clearings is 10^16, past 2^53 ≈ 9.007·10^15.
    await h.knex('transactions').insert(
      Array.from({ length: 1000 }, (_, i) => ({
        id: `txn_bulk${i}x${card.id.slice(5, 15)}`,
        tenantId: t.id,
        cardId: card.id,
        partner: 'sandbox',
        partnerTransactionId: `bulk-${card.id}-${i}`,
        status: 'closed',
        currency: 'USD',
        capturedAmount: MAX_AMOUNT,
      })),
    );
    for (const [path, key] of [
      [`/v1/cards/${card.id}`, t.appKey],
      [`/admin/cards/${card.id}`, t.operatorKey],
    ]) {
      const res = await h.request('GET', path, { key });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.body.balances.captured).toBe(Number.MAX_SAFE_INTEGER);
      expect(res.body.balances.available.all_time).toBe(0);
    }
    const list = await h.request('GET', `/v1/cards?userId=${user.id}`, { key: t.appKey });
    expect(list.status).toBe(200);
  });

  it('the API refuses amounts above 10^13 minor units', async () => {
    const user = await newUser(h, t);
    const over = MAX_AMOUNT + 1;
    const cases: Array<[string, string, string, unknown]> = [
      [
        'POST',
        '/v1/cards',
        t.appKey,
        {
          userId: user.id,
          currency: 'USD',
          controls: { spendingLimits: [{ amount: over, interval: 'all_time' }] },
        },
      ],
      ['PATCH', '/admin/policy', t.approverKey, { maxCardSpendLimit: over }],
      ['PATCH', '/admin/policy', t.approverKey, { weeklySpendLimitPerUser: over }],
      ['POST', '/admin/policy/preview', t.operatorKey, { overrideApprovalThreshold: over }],
    ];
    for (const [method, path, key, body] of cases) {
      const res = await h.request(method, path, {
        key,
        body,
        headers: { 'idempotency-key': `k-${path}-${Math.random()}` },
      });
      expect({ path, body, status: res.status, code: res.body?.error?.code }).toEqual({
        path,
        body,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const atMax = await h.request('POST', '/v1/cards', {
      key: t.appKey,
      body: {
        userId: user.id,
        currency: 'USD',
        controls: { spendingLimits: [{ amount: MAX_AMOUNT, interval: 'all_time' }] },
      },
      headers: { 'idempotency-key': `k-max-${Date.now()}` },
    });
    // Within the API's range; the program's own maximum refuses it (422), not the schema.
    expect(atMax.status).not.toBe(400);
  });
});

describe('a delivery nested thousands deep is stored as received and breaks no view', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

  it('unsigned or signed, it is kept byte for byte; the delivery view and the card timeline answer JSON', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const unsignedBody = `{"id":"evt_deep","type":"card.updated","data":${deep(5000)}}`;
    const unsigned = await h.request('POST', new URL(t.sandboxWebhookUrl).pathname, {
      rawBody: unsignedBody,
      headers: { 'content-type': 'application/json' },
    });
    expect(unsigned.status).toBe(401);
    // (Written as text: JSON.stringify itself overflows the stack on such a value.)
    const data = JSON.stringify({
      transactionId: `tx-deep-${Date.now()}`,
      cardId: card.partnerCardId,
      amount: 100,
      currency: 'USD',
    });
    const eventId = `evt_deep_${Date.now()}`;
    const signed = await sendEvent(
      h,
      t,
      'transaction.cleared',
      {},
      {
        id: eventId,
        rawBody: `{"id":"${eventId}","type":"transaction.cleared","created":"${new Date().toISOString()}","data":${data.slice(0, -1)},"extra":${deep(5000)}}}`,
      },
    );
    expect(signed.status).toBe(200);
    await eventually(async () => (await outcomesOf(h, signed.body.id)).includes('applied'));

    for (const [id, body] of [
      [unsigned.body.error.details.id, unsignedBody],
      [signed.body.id, undefined],
    ] as const) {
      const stored = await h.knex('webhook_deliveries').where({ id }).first();
      if (body) expect(stored.rawBody.equals(Buffer.from(body))).toBe(true);
      const view = await h.request('GET', `/admin/webhook-events/${id}`, { key: t.operatorKey });
      expect({ id, status: view.status, type: view.headers.get('content-type') }).toEqual({
        id,
        status: 200,
        type: expect.stringContaining('application/json'),
      });
      // Shown as its text (masked), not re-parsed into a structure thousands of levels deep.
      // (Compared by length: masking keeps it, and the text is long.)
      const { text, json, note } = view.body.payload;
      expect({ json, note, length: text.length }).toEqual({
        json: null,
        note: expect.stringMatching(/deeper than/),
        length: stored.rawBody.length,
      });
      expect(text.slice(-20)).toBe(stored.rawBody.toString('utf8').slice(-20));
    }
    const timeline = await h.request('GET', `/admin/cards/${card.id}/timeline?limit=200`, {
      key: t.operatorKey,
    });
    expect(timeline.status).toBe(200);
    const item = timeline.body.data.find((i: { id?: string }) => i.id === signed.body.id);
    expect(item?.payload).toMatchObject({ json: null, note: expect.stringMatching(/deeper than/) });
    const list = await h.request('GET', `/admin/webhook-events?cardId=${card.id}`, { key: t.operatorKey });
    expect(list.status).toBe(200);
  });

  it('a shallow delivery is still shown parsed', async () => {
    const res = await sendEvent(h, t, 'card.updated', {
      cardId: 'nope',
      status: 'frozen',
      x: JSON.parse(deep(20)),
    });
    const view = await h.request('GET', `/admin/webhook-events/${res.body.id}`, { key: t.operatorKey });
    expect(view.status).toBe(200);
    expect(view.body.payload.json).toMatchObject({ type: 'card.updated' });
  });
});

describe('nothing received is lost: NULs and oversize deliveries are stored and answered', () => {
  // (No digit runs: a long one could pass for a card number and be masked in the view.)
  const letters = (): string => crypto.randomBytes(8).toString('hex').replace(/[0-9]/g, 'q');
  const view = (id: string) => h.request('GET', `/admin/webhook-events/${id}`, { key: t.operatorKey });

  it('a signed delivery with a NUL in its event id or merchant name is kept byte for byte and answered 400', async () => {
    const card = (await issueCard(h, t, (await newUser(h, t)).id)).body;
    const created = new Date().toISOString();
    const bodies = [
      JSON.stringify({
        id: 'evt_nul\u0000id',
        type: 'transaction.cleared',
        created,
        data: {
          transactionId: `tx-nul-${letters()}`,
          cardId: card.partnerCardId,
          amount: 100,
          currency: 'USD',
        },
      }),
      JSON.stringify({
        id: `evt_nulmerchant${crypto.randomBytes(4).toString('hex')}`,
        type: 'authorization.advice',
        created,
        data: {
          transactionId: `tx-nulm-${letters()}`,
          cardId: card.partnerCardId,
          amount: 100,
          currency: 'USD',
          approved: true,
          merchant: { name: 'Corner\u0000Shop', mcc: '5411', country: 'US', region: 'US-CA' },
        },
      }),
    ];
    for (const raw of bodies) {
      expect(raw).toContain('\\u0000');
      const res = await sendEvent(
        h,
        t,
        'ignored',
        {},
        { id: `evt_${crypto.randomBytes(6).toString('hex')}`, rawBody: raw },
      );
      expectError(res, 400, 'WEBHOOK_UNPARSEABLE');
      expect(res.body.error.message).toMatch(/NUL/);
      const id = res.body.error.details.id;
      const stored = await h.knex('webhook_deliveries').where({ id }).first();
      expect(stored.rawBody.equals(Buffer.from(raw))).toBe(true);
      expect(await outcomesOf(h, id)).toEqual(['unparseable']);
      const shown = await view(id);
      expect(shown.status).toBe(200);
      expect(shown.body.outcome).toBe('unparseable');
      // The original is retrievable: parsing the stored text gives the NUL back.
      expect(JSON.stringify(JSON.parse(shown.body.payload.text))).toBe(raw);
    }
    // The escaped id is what the outcome records.
    const first = await h.knex('webhook_outcomes').where({ eventId: 'evt_nul\\u0000id' });
    expect(first).toHaveLength(1);
    // A replay gives the same answer and stores nothing new.
    const replayed = await h.request('POST', `/admin/webhook-events/${first[0].deliveryId}/replay`, {
      key: t.operatorKey,
    });
    expect(replayed.body).toMatchObject({ replayed: true, status: 400 });
  });

  it('a delivery over the body limit is kept (its first bytes, its length and hash), answered 413, and the connection closed', async () => {
    const raw = Buffer.concat([
      Buffer.from('{"id":"evt_big","type":"card.updated","data":"'),
      Buffer.alloc(1024 * 1024 + 5000, 'x'),
      Buffer.from('"}'),
    ]);
    const res = await h.request('POST', new URL(t.sandboxWebhookUrl).pathname, {
      rawBody: raw,
      headers: { 'content-type': 'application/json' },
    });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(res.headers.get('connection')).toBe('close');
    const id = res.body.error.details.id;
    const stored = await h.knex('webhook_deliveries').where({ id }).first();
    expect({
      truncated: stored.bodyTruncated,
      storedBytes: stored.rawBody.length,
      receivedBytes: stored.receivedBytes,
      sha256: stored.receivedSha256,
      prefix: stored.rawBody.equals(raw.subarray(0, 1024 * 1024)),
    }).toEqual({
      truncated: true,
      storedBytes: 1024 * 1024,
      receivedBytes: raw.length,
      sha256: crypto.createHash('sha256').update(raw).digest('hex'),
      prefix: true,
    });
    expect(await outcomesOf(h, id)).toEqual(['rejected']);
    const shown = await view(id);
    expect(shown.status).toBe(200);
    expect(shown.body.body).toEqual({
      truncated: true,
      storedBytes: 1024 * 1024,
      receivedBytes: raw.length,
      sha256: stored.receivedSha256,
    });
    const replayed = await h.request('POST', `/admin/webhook-events/${id}/replay`, { key: t.operatorKey });
    expect(replayed.body).toMatchObject({ replayed: true, status: 413 });
    expect(await h.knex('webhook_deliveries').where({ id })).toHaveLength(1);
    expect(await outcomesOf(h, id)).toEqual(['rejected', 'rejected']);
    // Chunked, on a raw socket: the same, and the socket is closed.
    const path = new URL(t.sandboxWebhookUrl).pathname;
    const r = await onOneSocket(h.baseUrl, [
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `${raw.length.toString(16)}\r\n`,
      raw,
      '\r\n0\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    ]);
    expect(answers(r.text)).toEqual(['HTTP/1.1 413']);
    expect(r.text).toMatch(/^connection: close\r$/im);
    expect(r.closedByServer).toBe(true);
    // To no subscription (nothing to store it under): 404, and the connection closed all the same.
    const nowhere = await onOneSocket(h.baseUrl, [
      `POST /webhooks/sandbox/psub_nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `${(5 * raw.length).toString(16)}\r\n`,
      Buffer.concat([raw, raw, raw, raw, raw]),
      '\r\n0\r\n\r\n',
    ]);
    expect(answers(nowhere.text)).toEqual(['HTTP/1.1 404']);
    expect(nowhere.text).toMatch(/^connection: close\r$/im);
    expect(nowhere.closedByServer).toBe(true);
  });
});
