/**
 * Real partners at the platform's edge: connecting one (its secrets and key sealed, never echoed),
 * signatures checked at the webhook route the way each partner signs (the Stripe SDK's
 * generateTestHeaderString, standardwebhooks for Lithic) including the traps, the answers'
 * deadlines under concurrency, partial approvals, and an advice that overturns a decision.
 * Real PostgreSQL, real Temporal.
 */
import crypto from 'node:crypto';
import Stripe from 'stripe';
import { newTenant, uniq } from './helpers/fixtures';
import { startHarness, type Harness } from './helpers/harness';
import { startStoryPartners, type StoryPartners } from './helpers/story-partners';
import { lithicAsa, lithicEvent, lithicHeaders, lithicSecret } from './helpers/lithic-fixtures';
import { books, lithicDriver, post, readAnswer, stripeDriver, stripeSecret } from './helpers/partner-story';
import {
  stripeBody,
  stripeCardholder,
  stripeEvent,
  stripeRotationSignature,
  stripeSignature,
} from './helpers/stripe-fixtures';
import { eventually } from './helpers/wait';

let h: Harness;
let at: StoryPartners;
beforeAll(async () => {
  [h, at] = await Promise.all([startHarness(), startStoryPartners()]);
}, 300_000);
afterAll(async () => {
  await at?.close();
  await h?.stop();
});

const lastOutcome = async (deliveryId: string) =>
  (await h.knex('webhook_outcomes').where({ deliveryId }).orderBy('id', 'desc').first())?.outcome;

describe('connecting a real partner', () => {
  it('seals the partner’s secrets and key, never echoes them, and shows the key by its last four', async () => {
    const t = await newTenant(h);
    const signingSecret = stripeSecret();
    const apiKey = `sk_test_${crypto.randomBytes(12).toString('hex')}4242`;
    const res = await h.request('POST', '/admin/partners/stripe/subscriptions', {
      key: t.operatorKey,
      body: {
        signingSecret,
        apiKey,
        apiBaseUrl: 'http://127.0.0.1:12111/',
        stripeVersion: '2025-03-31.basil',
      },
      headers: { 'idempotency-key': uniq('sub') },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      partner: 'stripe',
      apiKeyLast4: '4242',
      apiBaseUrl: 'http://127.0.0.1:12111',
      stripeVersion: '2025-03-31.basil',
      status: 'active',
    });
    expect(res.body.url).toMatch(new RegExp(`/webhooks/stripe/${res.body.id}$`));
    expect(res.body).not.toHaveProperty('secret');
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(signingSecret);
    expect(text).not.toContain(apiKey);
    const listed = await h.request('GET', '/admin/partners/stripe/subscriptions', { key: t.operatorKey });
    expect(JSON.stringify(listed.body)).not.toContain(apiKey);
    const row = await h.knex('partner_subscriptions').where({ id: res.body.id }).first();
    for (const column of ['secretEncrypted', 'apiKeyEncrypted'])
      expect(String(row[column])).not.toMatch(new RegExp(`${signingSecret}|${apiKey}`));
    // Outbound calls get what was given.
    const { credentialsOf } = await import('../src/webhooks/subscriptions');
    expect(credentialsOf(h.vault, row)).toMatchObject({
      apiKey,
      apiBaseUrl: 'http://127.0.0.1:12111',
      stripeVersion: '2025-03-31.basil',
    });

    // Without the partner's secret, one is generated and shown once (as for the sandbox).
    const generated = await h.request('POST', '/admin/partners/lithic/subscriptions', {
      key: t.operatorKey,
      body: { apiKey: 'lithic-key-abcd' },
    });
    expect(generated.status).toBe(201);
    expect(generated.body.secret).toMatch(/^whsec_/);
    expect(generated.body.apiKeyLast4).toBe('abcd');
  });

  it('changes the API key, base URL and version without showing the key', async () => {
    const d = await stripeDriver(h, at);
    const key = `sk_test_${crypto.randomBytes(8).toString('hex')}9876`;
    const patched = await h.request('PATCH', `/admin/partners/stripe/subscriptions/${d.sub.id}`, {
      key: d.t.operatorKey,
      body: { apiKey: key, apiBaseUrl: 'https://api.stripe.com', stripeVersion: '2026-10-28.endive' },
    });
    expect(patched).toMatchObject({
      status: 200,
      body: { apiKeyLast4: '9876', apiBaseUrl: 'https://api.stripe.com', stripeVersion: '2026-10-28.endive' },
    });
    expect(JSON.stringify(patched.body)).not.toContain(key);
    const empty = await h.request('PATCH', `/admin/partners/stripe/subscriptions/${d.sub.id}`, {
      key: d.t.operatorKey,
      body: {},
    });
    expect(empty.status).toBe(400);
  });

  it('answers an unknown partner with 404 and bad settings with 400, never 500', async () => {
    const t = await newTenant(h);
    for (const partner of ['visa', '__proto__', 'constructor', 'toString'])
      expect(
        (
          await h.request('POST', `/admin/partners/${partner}/subscriptions`, {
            key: t.operatorKey,
            body: { signingSecret: stripeSecret() },
          })
        ).status,
      ).toBe(404);
    for (const body of [
      { apiBaseUrl: 'ftp://stripe.example' },
      { apiBaseUrl: 'not a url' },
      { stripeVersion: 'latest' },
      { signingSecret: 'short' },
      { signingSecret: 'whsec_ with spaces inside' },
      { apiKey: 42 },
      { nonsense: true },
    ]) {
      const res = await h.request('POST', '/admin/partners/stripe/subscriptions', {
        key: t.operatorKey,
        body,
      });
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    // A webhook to an unknown partner, or a subscription id that is no id.
    for (const path of ['/webhooks/__proto__/psub_abc', '/webhooks/visa/psub_abc', '/webhooks/stripe/nope'])
      expect((await h.request('POST', path, { rawBody: '{}' })).status).toBe(404);
  });

  it('accepts a registered partner in the policy, and only a registered one', async () => {
    const t = await newTenant(h);
    for (const partner of ['stripe', 'lithic', 'sandbox'])
      expect(
        await h.request('PATCH', '/admin/policy', { key: t.operatorKey, body: { partner } }),
      ).toMatchObject({ status: 200, body: { policy: { partner } } });
    for (const partner of ['__proto__', 'marqeta', 'Stripe'])
      expect(
        (await h.request('PATCH', '/admin/policy', { key: t.operatorKey, body: { partner } })).status,
      ).toBe(400);
  });
});

describe('Stripe signatures at the route', () => {
  const ignoredEvent = () =>
    stripeBody(stripeEvent('issuing_cardholder.created', stripeCardholder(), { id: uniq('evt') }));

  it('rejects a wrong secret, the Standard Webhooks reading of whsec_, a stale, missing or tampered signature', async () => {
    const d = await stripeDriver(h, at);
    const raw = ignoredEvent();
    const now = Math.floor(Date.now() / 1000);
    // The whsec_ trap: the key base64-decoded (as Standard Webhooks and Lithic do) is not Stripe's key.
    const decodedKey = Buffer.from(d.secret.slice('whsec_'.length), 'base64');
    const trap = `t=${now},v1=${crypto.createHmac('sha256', decodedKey).update(`${now}.${raw}`).digest('hex')}`;
    const cases: Array<[string, Promise<Awaited<ReturnType<typeof d.sendRaw>>>]> = [
      ['wrong secret', d.sendRaw(raw, stripeSignature(raw, stripeSecret()))],
      ['base64 trap', d.sendRaw(raw, trap)],
      ['stale', d.sendRaw(raw, stripeSignature(raw, d.secret, now - 301))],
      ['missing', post(h, d.sub.url, raw, {})],
      ['tampered', d.sendRaw(raw.replace('Jenny', 'Jenna'), stripeSignature(raw, d.secret))],
    ];
    for (const [name, reply] of cases) {
      const r = await reply;
      expect([name, r.status, r.body.error.code]).toEqual([name, 401, 'WEBHOOK_SIGNATURE_INVALID']);
      // Stored first, as rejected.
      expect(await lastOutcome(r.body.error.details.id)).toBe('rejected');
    }
    // The same bytes signed right: accepted, and a type the platform does not use is ignored.
    const ok = await d.sendRaw(raw);
    expect(ok).toMatchObject({ status: 200, body: { received: true, ignored: true } });
    expect(await lastOutcome(ok.body.id)).toBe('ignored');
    // Stripe's own raw-key signature made by hand is the SDK's.
    const byHand = `t=${now},v1=${crypto.createHmac('sha256', d.secret).update(`${now}.${raw}`).digest('hex')}`;
    expect((await d.sendRaw(raw, byHand)).status).toBe(200);
  });

  it('rotates in the partner’s new secret: two v1= pass, the old one alone passes for 24 h only', async () => {
    const d = await stripeDriver(h, at);
    const next = stripeSecret();
    const rotated = await h.request(
      'POST',
      `/admin/partners/stripe/subscriptions/${d.sub.id}/rotate-secret`,
      { key: d.t.operatorKey, body: { signingSecret: next } },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body).not.toHaveProperty('secret');
    expect(JSON.stringify(rotated.body)).not.toContain(next);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    const raw = ignoredEvent();
    const now = Math.floor(Date.now() / 1000);
    expect((await d.sendRaw(raw, stripeRotationSignature(raw, [d.secret, next], now))).status).toBe(200);
    expect((await d.sendRaw(raw, stripeRotationSignature(raw, [stripeSecret(), next], now))).status).toBe(
      200,
    );
    expect((await d.sendRaw(raw, stripeSignature(raw, next))).status).toBe(200);
    expect((await d.sendRaw(raw, stripeSignature(raw, d.secret))).status).toBe(200);
    // The overlap over: the old secret signs nothing any more.
    await h
      .knex('partner_subscriptions')
      .where({ id: d.sub.id })
      .update({ previousSecretExpiresAt: new Date(Date.now() - 1000) });
    await eventually(async () => (await d.sendRaw(raw, stripeSignature(raw, d.secret))).status === 401);
    expect((await d.sendRaw(raw, stripeSignature(raw, next))).status).toBe(200);
  });
});

describe('Lithic signatures at the route', () => {
  it('rejects a wrong secret, the raw-key reading of whsec_, stale, missing and tampered; takes two signatures', async () => {
    const d = await lithicDriver(h, at);
    const raw = JSON.stringify({ ...lithicAsa({ token: crypto.randomUUID(), status: 'BALANCE_INQUIRY' }) });
    const id = `msg_${crypto.randomBytes(6).toString('hex')}`;
    const now = Math.floor(Date.now() / 1000);
    // The trap the other way: Stripe's reading (the whole string as the key) is not Lithic's.
    const rawKey = crypto.createHmac('sha256', d.secrets.asa).update(`${id}.${now}.${raw}`).digest('base64');
    const cases: Array<[string, Record<string, string>, string]> = [
      ['wrong secret', lithicHeaders(raw, lithicSecret()), raw],
      [
        'raw-key trap',
        { 'webhook-id': id, 'webhook-timestamp': String(now), 'webhook-signature': `v1,${rawKey}` },
        raw,
      ],
      ['stale', lithicHeaders(raw, d.secrets.asa, { at: now - 301 }), raw],
      // Well past the edge: the request reaches the API a moment after `now` (the exact edge is webhooks.ingest's).
      ['too new', lithicHeaders(raw, d.secrets.asa, { at: now + 360 }), raw],
      ['missing', {}, raw],
      ['tampered', lithicHeaders(raw, d.secrets.asa), raw.replace('COFFEE', 'COFFEF')],
    ];
    for (const [name, headers, body] of cases) {
      const r = await post(h, d.sub.url, body, headers);
      expect([name, r.status, r.body.error?.code]).toEqual([name, 401, 'WEBHOOK_SIGNATURE_INVALID']);
    }
    // Two signatures (a rotation at Lithic): one good one is enough. A balance inquiry is the
    // adapter's own answer, sent as it is.
    const token = JSON.parse(raw).token;
    const two = await post(h, d.sub.url, raw, lithicHeaders(raw, [lithicSecret(), d.secrets.asa]));
    expect(two).toMatchObject({ status: 200, body: { token, result: 'APPROVED' } });
  });

  it('rotates in Lithic’s new ASA secret with the old one valid meanwhile', async () => {
    const d = await lithicDriver(h, at);
    const next = lithicSecret();
    const rotated = await h.request(
      'POST',
      `/admin/partners/lithic/subscriptions/${d.sub.id}/rotate-secret`,
      {
        key: d.t.operatorKey,
        body: { authorizationSigningSecret: next },
      },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body).not.toHaveProperty('secret');
    expect(rotated.body.previousAuthorizationSecretExpiresAt).toBeTruthy();
    // The event secret was not rotated.
    expect(rotated.body.previousSecretExpiresAt).toBeNull();
    const raw = JSON.stringify(lithicAsa({ token: crypto.randomUUID(), status: 'BALANCE_INQUIRY' }));
    for (const secret of [next, d.secrets.asa, d.secrets.events])
      expect((await post(h, d.sub.url, raw, lithicHeaders(raw, secret))).status).toBe(200);
  });
});

describe('synchronous answers', () => {
  it('approves exactly as many of 10 concurrent Stripe requests as the limit allows, each inside 2 s', async () => {
    const d = await stripeDriver(h, at); // 20 000 all time
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => d.authorize(`C${i}`, 3_000)));
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.headers.get('stripe-version')).toBe(Stripe.API_VERSION);
      expect(r.ms).toBeLessThan(2_000);
    }
    const approved = replies.filter((r) => r.body.approved === true);
    expect(approved).toHaveLength(6);
    for (const r of replies.filter((x) => x.body.approved === false))
      expect(r.body.metadata).toEqual({ vcn_decline_code: 'EXCEEDS_SPENDING_LIMIT' });
    await eventually(async () => (await books(h, d)).balances.held === 18_000);
  });

  it('approves less only where the partner lets it: Stripe is_amount_controllable, Lithic partial-capable terminals', async () => {
    const s = await stripeDriver(h, at);
    const fixed = await s.authorize('P0', 25_000);
    expect(fixed.body).toEqual({ approved: false, metadata: { vcn_decline_code: 'EXCEEDS_SPENDING_LIMIT' } });
    const partial = await s.authorize('P1', 25_000, { partialApproval: true });
    expect(partial.body).toEqual({ approved: true, amount: 20_000 });
    await eventually(async () => (await books(h, s)).balances.held === 20_000);

    const l = await lithicDriver(h, at);
    const asa = await l.authorize('P1', 25_000, { partialApproval: true });
    expect(asa.body).toEqual({ token: expect.any(String), result: 'APPROVED', approved_amount: 20_000 });
    expect(readAnswer('lithic', asa, 25_000)).toEqual({ approved: true, amount: 20_000 });
  });

  it('takes a Stripe request on an authorization already holding money as an increment', async () => {
    const d = await stripeDriver(h, at); // 20 000 all time
    expect((await d.authorize('I1', 15_000)).body).toEqual({ approved: true });
    await d.decided('I1', true, 15_000);
    expect((await d.increment('I1', 4_000, 15_000)).body).toEqual({ approved: true });
    const over = await d.increment('I1', 2_000, 19_000);
    expect(over.body).toEqual({ approved: false, metadata: { vcn_decline_code: 'EXCEEDS_SPENDING_LIMIT' } });
    await eventually(async () => (await books(h, d)).balances.held === 19_000);
    expect((await books(h, d)).transactions).toHaveLength(1);
  });

  it('approves what the user’s weekly cap leaves, where the partner lets it', async () => {
    const d = await stripeDriver(h, at, { policy: { weeklySpendLimitPerUser: 6_000 } });
    const partial = await d.authorize('W1', 9_000, { partialApproval: true });
    expect(partial.body).toEqual({ approved: true, amount: 6_000 });
    const none = await d.authorize('W2', 1_000, { partialApproval: true });
    expect(none.body).toEqual({
      approved: false,
      metadata: { vcn_decline_code: 'EXCEEDS_USER_WEEKLY_LIMIT' },
    });
    await eventually(async () => (await books(h, d)).balances.held === 6_000);
  });

  it('gives back the approval an advice overturns: a one-authorization card can approve again', async () => {
    const d = await stripeDriver(h, at, {
      controls: { spendingLimits: [{ amount: 20_000, interval: 'all_time' }], maxAuthorizations: 1 },
    });
    expect((await d.authorize('V1', 2_000)).body).toEqual({ approved: true });
    // Stripe declined it all the same (our answer came too late for it): the hold is released
    // and the card's one authorization is not used up.
    await d.decided('V1', false, 2_000);
    await eventually(async () => (await books(h, d)).balances.held === 0);
    expect((await books(h, d)).status).toBe('active');
    expect((await d.authorize('V2', 2_000)).body).toEqual({ approved: true });
    expect((await d.authorize('V3', 2_000)).body).toEqual({
      approved: false,
      metadata: { vcn_decline_code: 'MAX_AUTHORIZATIONS_REACHED' },
    });
  });
});

describe('the partner’s deadline', () => {
  it('answers Stripe inside its 2 s even when the program would wait longer and the card cannot answer', async () => {
    const d = await stripeDriver(h, at, {
      policy: { authorizationTimeoutMs: 5_000, standInDecision: 'decline' },
    });
    await h.stopWorker();
    let reply: Awaited<ReturnType<typeof d.authorize>>;
    try {
      reply = await d.authorize('D1', 1_000);
    } finally {
      await h.startWorker();
    }
    expect(reply.status).toBe(200);
    expect(reply.ms).toBeLessThan(2_000);
    expect(reply.body).toEqual({ approved: false, metadata: { vcn_decline_code: 'STAND_IN' } });
  });
});

describe('Stripe deciding without us', () => {
  it('books what Stripe did when our answer came too late for it (webhook_timeout)', async () => {
    const d = await stripeDriver(h, at, { policy: { standInDecision: 'decline' } });
    await h.stopWorker();
    try {
      expect((await d.authorize('T1', 3_000)).body).toEqual({
        approved: false,
        metadata: { vcn_decline_code: 'STAND_IN' },
      });
    } finally {
      await h.startWorker();
    }
    // Stripe did not get it in time and approved by its Dashboard default: its decision stands.
    await d.decided('T1', true, 3_000, 'webhook_timeout');
    await eventually(async () => (await books(h, d)).balances.held === 3_000, 20_000);
    const [tx] = (await books(h, d)).transactions;
    expect(tx!.flags).toEqual(expect.arrayContaining(['partner_override']));
  });
});

describe('what real partners add to the books', () => {
  it('records a partner-decided hold change and a record for review as their own event types', async () => {
    const d = await lithicDriver(h, at);
    expect((await d.authorize('J1', 1_000)).body).toMatchObject({ result: 'APPROVED' });
    await d.decided('J1', true, 1_000);
    // Lithic's AUTHORIZATION_ADVICE carries the new total: the hold grows by 1 500.
    await d.sendEntry('J1', lithicEvent('AUTHORIZATION_ADVICE', 2_500));
    await eventually(async () => (await books(h, d)).balances.held === 2_500);
    // A return reversal: no rule applies it; it is flagged for an operator.
    await d.sendEntry('J2', lithicEvent('RETURN_REVERSAL', 300));
    const types = async () =>
      (await h.knex('transaction_events').where({ tenantId: d.t.id, cardId: d.card.id })).map((e) => e.type);
    await eventually(async () => (await types()).includes('transaction_review'));
    expect(await types()).toEqual(expect.arrayContaining(['authorization_adjustment', 'transaction_review']));
    const flagged = (await books(h, d)).transactions.filter((x) =>
      (x.flags as string[]).includes('manual_review'),
    );
    expect(flagged).toHaveLength(1);
  });
});
