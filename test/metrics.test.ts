import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../src/api/app';
import knexFactory from 'knex';
import { createLogger } from '../src/lib/logger';
import { createWorker } from '../src/worker/create-worker';
import { startWorkerHealthServer } from '../src/worker/health-server';
import { startHarness, type Harness } from './helpers/harness';
import { newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { merchant, sendEvent } from './helpers/webhooks';
import { eventually } from './helpers/wait';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

const logger = () =>
  createLogger({ name: 'test-metrics', level: 'info', file: h.stack.logFile, stdout: false });

/** The value of one series in a Prometheus text exposition (undefined when absent). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /metrics on the API', () => {
  let t: TestTenant;
  let card: { id: string; partnerCardId: string; userId: string };
  let number: string;
  let text: string;

  beforeAll(async () => {
    t = await newTenant(h, { authorizationTimeoutMs: 10_000 });
    const user = await newUser(h, t);
    // A card issued, and the same request again with its Idempotency-Key (a replay).
    const key = uniq('idem');
    const issue = () =>
      h.request('POST', '/v1/cards', {
        key: t.appKey,
        body: {
          userId: user.id,
          currency: 'USD',
          controls: { spendingLimits: [{ amount: 20_000, interval: 'all_time' }] },
        },
        headers: { 'idempotency-key': key },
      });
    const first = await issue();
    expect(first.status).toBe(201);
    card = first.body;
    const again = await issue();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).status).toBe(200);
    number = (await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: t.appKey })).body.number;
    expect(number).toMatch(/^[0-9]{16}$/);
    // An authorization the card approves, a webhook delivered (and handed to the card by the relay).
    const txn = uniq('txn');
    const auth = await sendEvent(h, t, 'authorization.request', {
      transactionId: txn,
      cardId: card.partnerCardId,
      amount: 400,
      currency: 'USD',
      merchant,
    });
    expect(auth.body.approved).toBe(true);
    const reversal = await sendEvent(h, t, 'authorization.reversed', {
      transactionId: txn,
      cardId: card.partnerCardId,
      amount: 400,
    });
    expect(reversal.status).toBe(200);
    // A badly signed delivery, and unknown paths carrying a card id and a card number.
    const forged = await sendEvent(
      h,
      t,
      'authorization.reversed',
      { transactionId: txn },
      { secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64') },
    );
    expect(forged.status).toBe(401);
    expect((await h.request('GET', `/v1/nothing/${card.id}`, { key: t.appKey })).status).toBe(404);
    expect((await h.request('GET', `/${number}`)).status).toBe(404);
    // Refused by authentication: still labelled with its route.
    expect((await h.request('GET', `/v1/cards/${card.id}`)).status).toBe(401);

    const res = await scrape(`${h.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    text = res.text;
  });

  it('counts HTTP requests by route template, method and status class', () => {
    const count = (method: string, route: string, cls: string) =>
      sample(
        text,
        `vcn_http_request_duration_seconds_count{method="${method}",route="${route}",status_class="${cls}"}`,
      );
    expect(count('POST', '/v1/cards', '2xx')).toBe(2);
    expect(count('GET', '/v1/cards/:id', '2xx')).toBe(1);
    expect(count('GET', '/v1/cards/:id', '4xx')).toBe(1);
    expect(count('POST', '/v1/cards/:id/reveal', '2xx')).toBe(1);
    expect(count('POST', '/webhooks/:partner/:subscriptionId', '2xx')).toBe(2);
    expect(count('POST', '/webhooks/:partner/:subscriptionId', '4xx')).toBe(1);
    // Both unknown paths under one label.
    expect(count('GET', '(unmatched)', '4xx')).toBe(2);
    expect(text).toMatch(
      /vcn_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/v1\/cards",status_class="2xx"\} \d+/,
    );
  });

  it('counts webhook deliveries by partner and outcome, authorizations by result, idempotency replays', () => {
    expect(sample(text, 'vcn_webhook_deliveries_total{partner="sandbox",outcome="accepted"}')).toBe(2);
    expect(sample(text, 'vcn_webhook_deliveries_total{partner="sandbox",outcome="rejected"}')).toBe(1);
    expect(sample(text, 'vcn_authorization_decisions_total{result="approved",decline_code=""}')).toBe(1);
    expect(sample(text, 'vcn_authorization_duration_seconds_count{result="approved"}')).toBe(1);
    expect(sample(text, 'vcn_idempotency_replays_total{route="/v1/cards"}')).toBe(1);
  });

  it("serves the process's default metrics", () => {
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('shows no card id, card number, partner card id, tenant or user id', () => {
    // The number's last 12 digits too (its first six, a public BIN, also occur in float sums).
    for (const secret of [card.id, card.partnerCardId, number, t.id, card.userId, number.slice(4)]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/card_[0-9a-z]/);
  });
});

describe('stand-ins', () => {
  it('counts an approving stand-in as stand_in, not as approved', async () => {
    const t = await newTenant(h, { authorizationTimeoutMs: 600, standInDecision: 'approve' });
    const user = await newUser(h, t);
    const card = (
      await h.request('POST', '/v1/cards', {
        key: t.appKey,
        body: {
          userId: user.id,
          currency: 'USD',
          controls: { spendingLimits: [{ amount: 20_000, interval: 'all_time' }] },
        },
        headers: { 'idempotency-key': uniq('idem') },
      })
    ).body;
    expect(card.partnerCardId).toEqual(expect.any(String));
    const before = await scrape(`${h.baseUrl}/metrics`);
    const approvedBefore = sample(
      before.text,
      'vcn_authorization_decisions_total{result="approved",decline_code=""}',
    );
    await h.stopWorker();
    try {
      const res = await sendEvent(h, t, 'authorization.request', {
        transactionId: uniq('txn'),
        cardId: card.partnerCardId,
        amount: 300,
        currency: 'USD',
        merchant,
      });
      expect(res.body).toMatchObject({ approved: true, approvedAmount: 300 });
    } finally {
      await h.startWorker();
    }
    const after = (await scrape(`${h.baseUrl}/metrics`)).text;
    expect(sample(after, 'vcn_authorization_decisions_total{result="stand_in",decline_code=""}')).toBe(1);
    expect(sample(after, 'vcn_authorization_duration_seconds_count{result="stand_in"}')).toBe(1);
    expect(sample(after, 'vcn_authorization_decisions_total{result="approved",decline_code=""}')).toBe(
      approvedBefore,
    );
  });
});

describe('METRICS_TOKEN', () => {
  it('needs the bearer token when one is configured: 401 without it or with a wrong one', async () => {
    const token = 'metrics-token-for-the-test-0123';
    const app = createApp({
      knex: h.knex,
      temporal: h.temporal,
      vault: h.vault,
      logger: logger(),
      cards: { taskQueue: h.taskQueue },
      config: {
        publicUrl: h.baseUrl,
        temporalUiUrl: '',
        temporalNamespace: h.stack.temporalNamespace,
        bodyLimitBytes: 1024 * 1024,
        sandboxEnabled: true,
        metricsToken: token,
      },
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      const none = await scrape(url);
      expect(none.status).toBe(401);
      expect(JSON.parse(none.text).error.code).toBe('UNAUTHENTICATED');
      expect((await scrape(url, { authorization: `Bearer ${token}x` })).status).toBe(401);
      expect((await scrape(url, { authorization: `Bearer ${token.slice(0, -1)}` })).status).toBe(401);
      expect((await scrape(url, { authorization: `Basic ${token}` })).status).toBe(401);
      const ok = await scrape(url, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('vcn_http_request_duration_seconds');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("the worker's health server", () => {
  it('answers /healthz, /readyz and /metrics (outbox relay and process metrics), and says when the worker is gone', async () => {
    const { worker, connection } = await createWorker({
      knex: h.knex,
      vault: h.vault,
      sandboxSecret: h.stack.vaultKey,
      temporal: {
        address: h.stack.temporalAddress,
        namespace: h.stack.temporalNamespace,
        taskQueue: `test-health-${uniq('q')}`,
      },
      workflowBundlePath: h.stack.workflowBundlePath,
    });
    const run: Promise<void> = (worker as Worker).run();
    const health = await startWorkerHealthServer(
      {
        state: () => worker.getState(),
        knex: h.knex,
        temporalCheck: () =>
          h.temporal.connection.workflowService.describeNamespace({ namespace: h.stack.temporalNamespace }),
        log: logger(),
      },
      '127.0.0.1:0',
    );
    try {
      await eventually(async () => (await fetch(`${health.url}/healthz`)).status === 200);
      const live = await (await fetch(`${health.url}/healthz`)).json();
      expect(live).toEqual({ status: 'ok', worker: 'RUNNING' });
      const ready = await fetch(`${health.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { worker: 'ok', postgres: 'ok', temporal: 'ok' },
      });
      // The harness's relay (in this process) has handed the reversal above, and its passes are timed.
      const m = await eventually(async () => {
        const s = await scrape(`${health.url}/metrics`);
        return (sample(s.text, 'vcn_outbox_rows_total{result="handed_off"}') ?? 0) > 0 ? s : null;
      });
      expect(m.status).toBe(200);
      expect(sample(m.text, 'vcn_outbox_sweep_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(sample(m.text, 'vcn_outbox_pass_duration_seconds_count')).toBeGreaterThan(0);
      // The backlog, read from the outbox table at the scrape (the reversal above is handed off by now).
      expect(sample(m.text, 'vcn_outbox_backlog_rows{status="pending"}')).toBeGreaterThanOrEqual(0);
      // A delivery for a card not known yet is parked: the backlog shows it.
      const t = await newTenant(h);
      const parked = await sendEvent(h, t, 'authorization.reversed', {
        transactionId: uniq('txn'),
        cardId: uniq('not-issued-yet'),
        amount: 100,
      });
      expect(parked.status).toBe(200);
      await eventually(async () => {
        const s = await scrape(`${health.url}/metrics`);
        return (sample(s.text, 'vcn_outbox_backlog_rows{status="parked"}') ?? 0) >= 1;
      });
      expect(sample(m.text, 'vcn_outbox_oldest_due_seconds')).toBeGreaterThanOrEqual(0);
      expect(sample(m.text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      // Only the worker's own series: the API's stay on the API.
      expect(m.text).not.toContain('vcn_http_request_duration_seconds');
      expect((await fetch(`${health.url}/nope`)).status).toBe(404);
    } finally {
      worker.shutdown();
      await run;
      await connection.close();
    }
    try {
      const down = await fetch(`${health.url}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'down', worker: 'STOPPED' });
      expect((await fetch(`${health.url}/readyz`)).status).toBe(503);
    } finally {
      await health.close();
    }
  });

  it('names the dependency that is down, without its error text, and guards /metrics with the token', async () => {
    // Not createKnex: that would make this unreachable database Objection's default.
    const quiet = (): void => undefined;
    const broken = knexFactory({
      client: 'pg',
      connection: 'postgres://nobody:nothing@127.0.0.1:1/none',
      pool: { min: 0, max: 1 },
      log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet },
    });
    const health = await startWorkerHealthServer(
      {
        state: () => 'RUNNING',
        knex: broken,
        temporalCheck: () =>
          h.temporal.connection.workflowService.describeNamespace({ namespace: h.stack.temporalNamespace }),
        metricsToken: 'worker-metrics-token-0123456789',
        log: logger(),
      },
      '127.0.0.1:0',
    );
    try {
      const res = await fetch(`${health.url}/readyz`);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        status: 'not_ready',
        checks: { worker: 'ok', postgres: 'unavailable', temporal: 'ok' },
      });
      expect(text).not.toMatch(/ECONNREFUSED|nobody|nothing/);
      expect((await scrape(`${health.url}/metrics`)).status).toBe(401);
      expect(
        (await scrape(`${health.url}/metrics`, { authorization: 'Bearer wrong-token-0123456789' })).status,
      ).toBe(401);
      const ok = await scrape(`${health.url}/metrics`, {
        authorization: 'Bearer worker-metrics-token-0123456789',
      });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('vcn_outbox_rows_total');
    } finally {
      await health.close();
      await broken.destroy();
    }
  });
});
