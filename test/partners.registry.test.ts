import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import { configureKeepAlive, createApp } from '../src/api/app';
import type { CanonicalEvent } from '../src/domain/events';
import { createLogger } from '../src/lib/logger';
import type { NormalizeResult, PartnerAdapter, PartnerRegistry } from '../src/partners/adapter';
import { createPartnerRegistry } from '../src/partners/registry';
import { SandboxPartner } from '../src/partners/sandbox/adapter';
import { normalizeSandbox } from '../src/partners/sandbox/normalize';
import { signStandardWebhook } from '../src/partners/sandbox/signature';
import { createWorker } from '../src/worker/create-worker';
import { startHarness, type Harness } from './helpers/harness';
import { uniq } from './helpers/fixtures';
import { eventually } from './helpers/wait';

/**
 * A partner registered in a test, beside the sandbox: its deliveries carry any number of events
 * (`{ id, type: 'batch', events: [<sandbox envelope>…] }`), so one delivery can carry none, one or
 * several — what a Lithic `card_transaction.updated` does and the sandbox never does. Its cards
 * are the sandbox's (created through a sandbox adapter), its signatures Standard Webhooks.
 */
const FANOUT = 'fanout';
function fanoutAdapter(sandbox: SandboxPartner): PartnerAdapter {
  return {
    name: FANOUT,
    eventTypes: ['batch'],
    verify: (delivery, secrets, opts) => sandbox.verify(delivery, secrets, opts),
    normalize(delivery): NormalizeResult {
      const body = JSON.parse(delivery.rawBody.toString('utf8')) as {
        id: string;
        type: string;
        events: unknown[];
      };
      const events: CanonicalEvent[] = [];
      for (const envelope of body.events) {
        const n = normalizeSandbox(envelope);
        if (!n.ok)
          return {
            ok: false,
            reason: 'unparseable',
            eventId: body.id,
            type: body.type,
            message: 'bad entry',
          };
        events.push(...n.events.map((e) => ({ ...e, partner: FANOUT })));
      }
      return { ok: true, eventId: body.id, type: body.type, events };
    },
    formatAnswer: (answer, context) => sandbox.formatAnswer(answer, context),
    createCard: (credentials, input) => sandbox.createCard(credentials, input),
    updateCardStatus: (credentials, input) => sandbox.updateCardStatus(credentials, input),
    listCards: (credentials, input) => sandbox.listCards(credentials, input),
    listTransactions: (credentials, input) => sandbox.listTransactions(credentials, input),
  };
}

let h: Harness;
let worker: Worker;
let workerRun: Promise<void>;
let closeWorker: () => Promise<void>;
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  // The shared stack (database, Temporal, a relay), without its worker: this file's worker and API
  // have the test partner in their registry.
  h = await startHarness({ worker: false });
  server = http.createServer();
  configureKeepAlive(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const registry = (sandboxSecret: string | undefined): PartnerRegistry => {
    const base = createPartnerRegistry({
      knex: h.knex,
      vault: h.vault,
      publicUrl: () => baseUrl,
      sandboxSecret,
    });
    const sandbox = new SandboxPartner(h.knex, sandboxSecret ?? null, {
      vault: h.vault,
      baseUrl: () => baseUrl,
    });
    return { ...base, [FANOUT]: fanoutAdapter(sandbox) };
  };
  const cards = { taskQueue: h.taskQueue };
  const created = await createWorker({
    knex: h.knex,
    vault: h.vault,
    sandboxSecret: h.stack.vaultKey,
    partners: registry(h.stack.vaultKey),
    temporal: {
      address: h.stack.temporalAddress,
      namespace: h.stack.temporalNamespace,
      taskQueue: h.taskQueue,
    },
    workflowBundlePath: h.stack.workflowBundlePath,
  });
  worker = created.worker;
  workerRun = worker.run();
  closeWorker = () => created.connection.close();
  const app = createApp({
    knex: h.knex,
    temporal: h.temporal,
    vault: h.vault,
    logger: createLogger({ name: 'test-api', level: 'info', file: h.stack.logFile, stdout: false }),
    cards,
    partners: registry(undefined),
    config: {
      publicUrl: baseUrl,
      temporalUiUrl: '',
      temporalNamespace: h.stack.temporalNamespace,
      bodyLimitBytes: 1024 * 1024,
      sandboxEnabled: true,
      reconciliation: { intervalMs: 100 * 365 * 86_400_000 },
    },
  });
  server.on('request', app.callback());
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  worker.shutdown();
  await workerRun;
  await closeWorker();
  await h.stop();
});

async function call(method: string, path: string, key: string | null, body?: unknown, headers = {}) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A program issuing at the test partner, its subscription with it, a user and an issued card. */
async function fanoutProgram() {
  const t = (
    await call('POST', '/admin/tenants', h.platformKey, {
      slug: uniq('fan'),
      name: 'Fan-out program',
      policy: { partner: FANOUT },
    })
  ).body;
  expect(t.appKey).toBeDefined();
  const sub = await call('POST', `/admin/partners/${FANOUT}/subscriptions`, t.operatorKey, {});
  expect(sub.status).toBe(201);
  const user = (
    await call('POST', '/v1/users', t.appKey, { externalId: uniq('u'), name: 'Fan', region: 'US-CA' })
  ).body;
  const card = await call(
    'POST',
    '/v1/cards',
    t.appKey,
    {
      userId: user.id,
      currency: 'USD',
      controls: { spendingLimits: [{ amount: 50_000, interval: 'all_time' }] },
    },
    { 'idempotency-key': uniq('issue') },
  );
  expect(card.status).toBe(201);
  return { t, sub: sub.body as { id: string; url: string; secret: string }, card: card.body };
}

const envelope = (type: string, data: Record<string, unknown>) => ({
  id: uniq('evt'),
  type,
  created: new Date().toISOString(),
  data,
});

/** Sends one signed test-partner delivery carrying these envelopes. */
async function deliver(sub: { id: string; secret: string }, events: unknown[]) {
  const id = uniq('dlv');
  const raw = JSON.stringify({ id, type: 'batch', events });
  const headers = {
    'content-type': 'application/json',
    ...signStandardWebhook(sub.secret, `msg_${id}`, raw),
  };
  return call('POST', `/webhooks/${FANOUT}/${sub.id}`, null, raw, headers);
}

const outcomesOf = async (deliveryId: string) =>
  (await h.knex('webhook_outcomes').where({ deliveryId }).orderBy('id')).map((o) => [o.eventId, o.outcome]);

describe('partners through the registry', () => {
  it('issues new cards at the partner the program’s policy names', async () => {
    const { card } = await fanoutProgram();
    expect(card).toMatchObject({ partner: FANOUT, status: 'active' });
    expect(card.partnerCardId).toMatch(/^sbc_/);
  });

  it('accepts only a registered partner in the policy, by own name (not an inherited property)', async () => {
    const { t } = await fanoutProgram();
    for (const partner of ['nowhere', 'constructor', 'hasownproperty'])
      expect(await call('PATCH', '/admin/policy', t.operatorKey, { partner })).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED', details: { fields: [{ path: 'partner' }] } } },
      });
    const changed = await call('PATCH', '/admin/policy', t.operatorKey, { partner: 'sandbox' });
    expect(changed).toMatchObject({ status: 200, body: { policy: { partner: 'sandbox' } } });
    // The harness's API has no test partner in its registry: there, the name is unknown.
    const other = await h.request('PATCH', '/admin/policy', {
      key: t.operatorKey,
      body: { partner: FANOUT },
    });
    expect(other.status).toBe(400);
  });

  it('queues each event of a delivery on its own, deduped by its own id', async () => {
    const { sub, card } = await fanoutProgram();
    const txn = uniq('txn');
    const advice = envelope('authorization.advice', {
      transactionId: txn,
      cardId: card.partnerCardId,
      amount: 1_200,
      currency: 'USD',
      merchant: { name: 'Shop', mcc: '5411', country: 'US', region: 'US-CA' },
      approved: true,
    });
    const cleared = envelope('transaction.cleared', {
      transactionId: txn,
      cardId: card.partnerCardId,
      amount: 1_200,
      currency: 'USD',
    });
    const first = await deliver(sub, [advice, cleared]);
    expect(first).toMatchObject({ status: 200, body: { received: true, duplicate: false } });
    const handoffs = await h.knex('webhook_handoffs').where({ deliveryId: first.body.id }).orderBy('eventId');
    expect(handoffs.map((r) => r.eventId).sort()).toEqual([advice.id, cleared.id].sort());
    // Both reach the card and apply, each with its own outcome.
    await eventually(async () => (await outcomesOf(first.body.id)).length === 2);
    expect((await outcomesOf(first.body.id)).sort()).toEqual(
      [
        [advice.id, 'applied'],
        [cleared.id, 'applied'],
      ].sort(),
    );
    const row = await h.knex('transactions').where({ cardId: card.id, partnerTransactionId: txn }).first();
    expect(row).toMatchObject({ authorizedAmount: 1_200, capturedAmount: 1_200, heldAmount: 0 });

    // The same events again in another delivery: a duplicate, nothing queued.
    const again = await deliver(sub, [advice, cleared]);
    expect(again.body).toMatchObject({ duplicate: true });
    expect(await h.knex('webhook_handoffs').where({ deliveryId: again.body.id })).toHaveLength(0);
    expect((await outcomesOf(again.body.id)).sort()).toEqual(
      [
        [advice.id, 'duplicate'],
        [cleared.id, 'duplicate'],
      ].sort(),
    );

    // One seen event and one new one: only the new one is queued; the delivery is no duplicate.
    const refund = envelope('transaction.refunded', {
      refundId: uniq('rf'),
      transactionId: txn,
      cardId: card.partnerCardId,
      amount: 200,
      currency: 'USD',
    });
    const mixed = await deliver(sub, [cleared, refund]);
    expect(mixed.body).toMatchObject({ duplicate: false });
    expect(
      (await h.knex('webhook_handoffs').where({ deliveryId: mixed.body.id })).map((r) => r.eventId),
    ).toEqual([refund.id]);
    await eventually(async () => (await outcomesOf(mixed.body.id)).length === 2);
    expect((await outcomesOf(mixed.body.id)).sort()).toEqual(
      [
        [cleared.id, 'duplicate'],
        [refund.id, 'applied'],
      ].sort(),
    );
    await eventually(
      async () =>
        (await h.knex('transactions').where({ cardId: card.id, partnerTransactionId: txn }).first())
          .refundedAmount === 200,
    );
  });

  it('answers a delivery that carries no events with ignored, and queues nothing', async () => {
    const { sub } = await fanoutProgram();
    const empty = await deliver(sub, []);
    expect(empty).toMatchObject({ status: 200, body: { received: true, duplicate: false, ignored: true } });
    expect(await h.knex('webhook_handoffs').where({ deliveryId: empty.body.id })).toHaveLength(0);
    const [outcome] = await h.knex('webhook_outcomes').where({ deliveryId: empty.body.id });
    expect(outcome).toMatchObject({ outcome: 'ignored', details: { reason: 'no events: nothing to apply' } });
  });
});
