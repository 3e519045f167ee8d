import { createApiKey } from '../src/tenants/api-keys';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { eventually, inMs } from './helpers/wait';

const h = useHarness();
let t: TestTenant;
let secondApproverKey: string;

beforeAll(async () => {
  t = await newTenant(h, {
    overrideApprovalThreshold: 50_000,
    maxCardSpendLimit: 100_000,
    weeklyCardLimitPerUser: 2,
  });
  secondApproverKey = (await createApiKey(h.knex, t.id, 'approver', 'second approver')).key;
});

const action = (cardId: string, body: Record<string, unknown>, key = t.operatorKey) =>
  h.request('POST', `/admin/cards/${cardId}/actions`, { key, body });
const getCard = async (cardId: string) =>
  (await h.request('GET', `/admin/cards/${cardId}`, { key: t.operatorKey })).body;

describe('operator overrides on cards', () => {
  it('freezes a card as an operator; the app cannot lift it; the operator can', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const res = await action(card.id, { type: 'freeze', reason: 'suspected fraud' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^act_/),
      type: 'freeze',
      status: 'applied',
      reason: 'suspected fraud',
    });
    expect(res.body.after).toEqual({ status: 'frozen', frozenBy: 'operator' });
    const appTry = await h.request('POST', `/v1/cards/${card.id}/unfreeze`, { key: t.appKey });
    expect(appTry.status).toBe(409);
    expect(appTry.body.error.code).toBe('CARD_FROZEN_BY_OPERATOR');
    const lift = await action(card.id, { type: 'unfreeze', reason: 'cleared' });
    expect(lift.body.status).toBe('applied');
    expect((await getCard(card.id)).status).toBe('active');
    const events = await h.knex('card_events').where({ cardId: card.id }).orderBy('id');
    expect(events.slice(2).map((e) => [e.toStatus, e.actorType, e.cause, e.reason])).toEqual([
      ['frozen', 'operator', 'operator_freeze', 'suspected fraud'],
      ['active', 'operator', 'operator_unfreeze', 'cleared'],
    ]);
  });

  it('requires a reason and refuses illegal changes with the state machine’s code', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const noReason = await action(card.id, { type: 'freeze' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details.fields.map((f: { path: string }) => f.path)).toContain('reason');
    const blank = await action(card.id, { type: 'freeze', reason: '   ' });
    expect(blank.status).toBe(400);
    const unfreezeActive = await action(card.id, { type: 'unfreeze', reason: 'x' });
    expect(unfreezeActive.status).toBe(409);
    expect(unfreezeActive.body.error.code).toBe('CARD_TRANSITION_NOT_ALLOWED');
    const [failed] = await h
      .knex('admin_action_decisions')
      .where({ decision: 'failed' })
      .whereIn('actionId', h.knex('admin_actions').select('id').where({ subjectId: card.id }));
    expect(failed.note).toMatch(/CARD_TRANSITION_NOT_ALLOWED/);
    const cancelWithExpiry = await action(card.id, { type: 'cancel', reason: 'x', expiresAt: inMs(60_000) });
    expect(cancelWithExpiry.status).toBe(409);
    expect(cancelWithExpiry.body.error.code).toBe('OVERRIDE_NOT_REVERSIBLE');
    const appKeyTry = await action(card.id, { type: 'freeze', reason: 'x' }, t.appKey);
    expect(appKeyTry.status).toBe(403);
  });

  it('reverts an override with expiresAt by itself', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const res = await action(card.id, { type: 'freeze', reason: 'cool-off', expiresAt: inMs(2_500) });
    expect(res.body.status).toBe('applied');
    expect((await getCard(card.id)).pendingOverrides).toEqual([
      expect.objectContaining({ actionId: res.body.id, type: 'freeze' }),
    ]);
    await eventually(
      async () =>
        (await h.request('GET', `/admin/actions/${res.body.id}`, { key: t.operatorKey })).body.status ===
        'reverted',
    );
    expect((await getCard(card.id)).status).toBe('active');
    const last = await h.knex('card_events').where({ cardId: card.id }).orderBy('id', 'desc').first();
    expect(last).toMatchObject({ fromStatus: 'frozen', toStatus: 'active', cause: 'override_expired' });
    await eventually(
      async () =>
        (await h.knex('sandbox.cards').where({ id: card.partnerCardId }).first()).status === 'active',
    );
  });

  it('lets a raised limit lapse back to the old one when it expires, unless someone changed it since', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const raise = await action(card.id, {
      type: 'set_spending_limits',
      params: { spendingLimits: [{ amount: 30_000, interval: 'all_time' }] },
      reason: 'holiday',
      expiresAt: inMs(2_500),
    });
    expect(raise.body.status).toBe('applied');
    expect((await getCard(card.id)).controls.spendingLimits).toEqual([
      { amount: 30_000, interval: 'all_time' },
    ]);
    expect((await getCard(card.id)).balances.available).toEqual({ all_time: 30_000 });
    await eventually(
      async () =>
        (await h.request('GET', `/admin/actions/${raise.body.id}`, { key: t.operatorKey })).body.status ===
        'reverted',
    );
    expect((await getCard(card.id)).controls.spendingLimits).toEqual([
      { amount: 20_000, interval: 'all_time' },
    ]);

    const regions = await action(card.id, {
      type: 'allow_regions',
      params: { regions: ['CA'] },
      reason: 'trip',
      expiresAt: inMs(2_500),
    });
    expect(regions.body.after).toEqual({ allowedRegions: ['US', 'CA'] });
    // Changed again before the expiry: the expiry then restores nothing.
    await action(card.id, { type: 'allow_regions', params: { regions: ['MX'] }, reason: 'second trip' });
    await eventually(
      async () =>
        (await h.request('GET', `/admin/actions/${regions.body.id}`, { key: t.operatorKey })).body.status ===
        'expired',
    );
    expect((await getCard(card.id)).controls.allowedRegions).toEqual(['US', 'CA', 'MX']);
  });
});

describe('maker-checker', () => {
  it('holds an override above the threshold for an approver other than the requester; a rejection changes nothing', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const body = {
      type: 'set_spending_limits',
      params: { spendingLimits: [{ amount: 80_000, interval: 'monthly' }] },
      reason: 'VIP',
    };
    const pending = await action(card.id, body, t.approverKey);
    expect(pending.status).toBe(201);
    expect(pending.body.status).toBe('pending_approval');
    expect(pending.body.approvalReasons.join(' ')).toMatch(/threshold/);
    expect((await getCard(card.id)).controls.spendingLimits).toEqual([
      { amount: 20_000, interval: 'all_time' },
    ]);

    const byOperator = await h.request('POST', `/admin/actions/${pending.body.id}/approve`, {
      key: t.operatorKey,
    });
    expect(byOperator.status).toBe(403);
    const self = await h.request('POST', `/admin/actions/${pending.body.id}/approve`, { key: t.approverKey });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('SELF_APPROVAL_FORBIDDEN');

    const approved = await h.request('POST', `/admin/actions/${pending.body.id}/approve`, {
      key: secondApproverKey,
      body: { note: 'ok' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'applied',
      requestedBy: expect.any(String),
      approvedBy: expect.any(String),
    });
    expect(approved.body.approvedBy).not.toBe(approved.body.requestedBy);
    expect((await getCard(card.id)).controls.spendingLimits).toEqual([
      { amount: 80_000, interval: 'monthly' },
    ]);
    const twice = await h.request('POST', `/admin/actions/${pending.body.id}/approve`, {
      key: secondApproverKey,
    });
    expect(twice.status).toBe(409);

    const other = await action(card.id, {
      ...body,
      params: { spendingLimits: [{ amount: 90_000, interval: 'monthly' }] },
    });
    const rejected = await h.request('POST', `/admin/actions/${other.body.id}/reject`, {
      key: t.approverKey,
      body: { note: 'no' },
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejectedBy: expect.any(String), after: null });
    expect((await getCard(card.id)).controls.spendingLimits).toEqual([
      { amount: 80_000, interval: 'monthly' },
    ]);
    const late = await h.request('POST', `/admin/actions/${other.body.id}/approve`, {
      key: secondApproverKey,
    });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('ACTION_NOT_PENDING');
  });

  it('lets only one of two racing approvers decide', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const pending = await action(card.id, {
      type: 'set_spending_limits',
      params: { spendingLimits: [{ amount: 60_000, interval: 'weekly' }] },
      reason: 'r',
    });
    const third = (await createApiKey(h.knex, t.id, 'approver', 'third')).key;
    const [a, b] = await Promise.all([
      h.request('POST', `/admin/actions/${pending.body.id}/approve`, { key: secondApproverKey }),
      h.request('POST', `/admin/actions/${pending.body.id}/reject`, { key: third }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const decisions = await h
      .knex('admin_action_decisions')
      .where({ actionId: pending.body.id })
      .whereIn('decision', ['approved', 'rejected']);
    expect(decisions).toHaveLength(1);
  });

  it('lists actions waiting for approval', async () => {
    const user = await newUser(h, t);
    const card = (await issueCard(h, t, user.id)).body;
    const pending = await action(card.id, {
      type: 'set_spending_limits',
      params: { spendingLimits: [{ amount: 70_000, interval: 'weekly' }] },
      reason: 'r',
    });
    const list = await h.request('GET', '/admin/actions?status=pending_approval&limit=200', {
      key: t.operatorKey,
    });
    expect(list.body.data.map((a: { id: string }) => a.id)).toContain(pending.body.id);
    expect(list.body.data.every((a: { status: string }) => a.status === 'pending_approval')).toBe(true);
  });
});

describe('operator overrides on users', () => {
  it('suspends and reinstates a user; a suspended user gets no card', async () => {
    const user = await newUser(h, t);
    const suspend = await h.request('POST', `/admin/users/${user.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'suspend', reason: 'chargebacks' },
    });
    expect(suspend.body).toMatchObject({ status: 'applied', after: { status: 'suspended' } });
    expect((await issueCard(h, t, user.id)).body.error.code).toBe('USER_NOT_ACTIVE');
    const again = await h.request('POST', `/admin/users/${user.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'suspend', reason: 'again' },
    });
    expect(again.status).toBe(409);
    await h.request('POST', `/admin/users/${user.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'reinstate', reason: 'resolved' },
    });
    expect((await issueCard(h, t, user.id)).status).toBe(201);
  });

  it('lifts the weekly card cap only after approval', async () => {
    const user = await newUser(h, t);
    for (let i = 0; i < 2; i++) expect((await issueCard(h, t, user.id)).status).toBe(201);
    expect((await issueCard(h, t, user.id)).body.error.code).toBe('USER_WEEKLY_CARD_LIMIT_REACHED');
    const lift = await h.request('POST', `/admin/users/${user.id}/actions`, {
      key: t.operatorKey,
      body: { type: 'lift_weekly_card_limit', reason: 'event staff' },
    });
    expect(lift.body.status).toBe('pending_approval');
    expect((await issueCard(h, t, user.id)).status).toBe(422);
    await h.request('POST', `/admin/actions/${lift.body.id}/approve`, { key: t.approverKey });
    expect((await issueCard(h, t, user.id)).status).toBe(201);
  });

  it('reverts a user override when it expires', async () => {
    const user = await newUser(h, t);
    const res = await h.request('POST', `/admin/users/${user.id}/actions`, {
      key: t.operatorKey,
      body: {
        type: 'set_weekly_spend_limit',
        params: { amount: 1_000 },
        reason: 'probation',
        expiresAt: inMs(2_000),
      },
    });
    expect(res.body.status).toBe('applied');
    expect((await h.knex('users').where({ id: user.id }).first()).weeklySpendLimit).toBe(1_000);
    await eventually(
      async () => (await h.knex('users').where({ id: user.id }).first()).weeklySpendLimit === null,
    );
    expect(
      (await h.request('GET', `/admin/actions/${res.body.id}`, { key: t.operatorKey })).body.status,
    ).toBe('reverted');
  });
});

describe('admin issuance', () => {
  it('issues at once within policy, recording who issued it and why', async () => {
    const user = await newUser(h, t);
    const res = await h.request('POST', '/admin/cards', {
      key: t.operatorKey,
      headers: { 'idempotency-key': uniq('adm') },
      body: { userId: user.id, currency: 'USD', reason: 'replacement card' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'issue_card', status: 'applied' });
    expect(res.body.card).toMatchObject({ status: 'active', userId: user.id });
    const row = await h.knex('cards').where({ id: res.body.card.id }).first();
    expect(row).toMatchObject({ issuedByType: 'operator', issueReason: 'replacement card' });
    const admin = await getCard(res.body.card.id);
    expect(admin).toMatchObject({
      issuedBy: { type: 'operator' },
      issueReason: 'replacement card',
      workflowId: row.workflowId,
    });
    expect(admin.temporalUiUrl).toContain(encodeURIComponent(row.workflowId));
  });

  it('waits for an approver beyond a program cap, then issues', async () => {
    const user = await newUser(h, t);
    for (let i = 0; i < 2; i++) await issueCard(h, t, user.id);
    const res = await h.request('POST', '/admin/cards', {
      key: t.operatorKey,
      headers: { 'idempotency-key': uniq('adm') },
      body: {
        userId: user.id,
        currency: 'USD',
        reason: 'urgent travel',
        controls: { spendingLimits: [{ amount: 150_000, interval: 'all_time' }] },
      },
    });
    expect(res.body).toMatchObject({ status: 'pending_approval', card: null });
    expect(res.body.approvalReasons).toHaveLength(2); // weekly cap and the program maximum
    expect(await h.knex('cards').where({ userId: user.id })).toHaveLength(2);
    const approved = await h.request('POST', `/admin/actions/${res.body.id}/approve`, { key: t.approverKey });
    expect(approved.status).toBe(200);
    expect(approved.body.card).toMatchObject({
      status: 'active',
      controls: { spendingLimits: [{ amount: 150_000, interval: 'all_time' }] },
    });
    expect(await h.knex('cards').where({ userId: user.id })).toHaveLength(3);
  });

  it('never overrides the user’s own status or region', async () => {
    const user = await newUser(h, t, 'DE');
    const res = await h.request('POST', '/admin/cards', {
      key: t.operatorKey,
      headers: { 'idempotency-key': uniq('adm') },
      body: { userId: user.id, currency: 'USD', reason: 'x' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('REGION_NOT_ALLOWED');
  });
});

describe('program policy', () => {
  it('versions every change; a tightening one applies at once, a bad one is refused', async () => {
    const p = await newTenant(h, { overrideApprovalThreshold: 10_000 });
    const v1 = await h.request('GET', '/admin/policy', { key: p.operatorKey });
    expect(v1.body).toMatchObject({
      version: 1,
      policy: { overrideApprovalThreshold: 10_000, timeZone: 'UTC' },
    });
    const lower = await h.request('PATCH', '/admin/policy', {
      key: p.operatorKey,
      body: { maxCardSpendLimit: 400_000, blockedMccs: ['7995'], reason: 'tighter pilot' },
    });
    expect(lower.status).toBe(200);
    expect(lower.body).toMatchObject({
      version: 2,
      reason: 'tighter pilot',
      policy: { maxCardSpendLimit: 400_000, blockedMccs: ['7995'] },
    });
    expect(
      (await h.request('GET', '/admin/policy/versions/1', { key: p.operatorKey })).body.policy
        .maxCardSpendLimit,
    ).toBe(500_000);
    const bad = await h.request('PATCH', '/admin/policy', {
      key: p.operatorKey,
      body: { timeZone: 'Mars/Olympus' },
    });
    expect(bad.status).toBe(400);
    const other = await h.request('GET', '/admin/policy', { key: t.operatorKey });
    expect(other.body.policy.maxCardSpendLimit).toBe(100_000);
  });

  it('one person cannot switch off the controls: the stand-in/timeout change waits for a second principal', async () => {
    const p = await newTenant(h);
    const attack = { standInDecision: 'approve', authorizationTimeoutMs: 100, reason: 'latency' };
    // Neither an operator key nor an approver key alone applies a loosening change.
    for (const key of [p.operatorKey, p.approverKey]) {
      const res = await h.request('PATCH', '/admin/policy', { key, body: attack });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^act_/),
        type: 'change_policy',
        status: 'pending_approval',
        subject: { type: 'policy', id: p.id },
        approvalReasons: [
          expect.stringMatching(/deadline shortened from 1500 to 100 ms/),
          expect.stringMatching(/stand-in approves/),
        ],
      });
    }
    const inForce = await h.request('GET', '/admin/policy', { key: p.operatorKey });
    expect(inForce.body).toMatchObject({ version: 1, policy: { standInDecision: 'decline' } });
    // A loosening change needs a reason (it is an admin action).
    const noReason = await h.request('PATCH', '/admin/policy', {
      key: p.operatorKey,
      body: { standInDecision: 'approve' },
    });
    expect(noReason.status).toBe(400);

    const asked = await h.request('PATCH', '/admin/policy', { key: p.operatorKey, body: attack });
    // Another key of the requester's own principal may not approve it.
    const sameHolder = await h.knex('api_keys').where({ id: asked.body.requestedBy }).first('principal');
    const ownApprover = (await createApiKey(h.knex, p.id, 'approver', 'my approver', sameHolder.principal))
      .key;
    const self = await h.request('POST', `/admin/actions/${asked.body.id}/approve`, {
      key: ownApprover,
      body: { note: 'me again' },
    });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('SELF_APPROVAL_FORBIDDEN');
    expect((await h.request('GET', '/admin/policy', { key: p.operatorKey })).body.version).toBe(1);

    const approved = await h.request('POST', `/admin/actions/${asked.body.id}/approve`, {
      key: p.approverKey,
      body: { note: 'checked with the partner' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'applied', after: { version: 2 } });
    const applied = await h.request('GET', '/admin/policy', { key: p.operatorKey });
    expect(applied.body).toMatchObject({
      version: 2,
      policy: { standInDecision: 'approve', authorizationTimeoutMs: 100 },
    });
    // A second approval of the same action changes nothing.
    const again = await h.request('POST', `/admin/actions/${asked.body.id}/approve`, {
      key: p.approverKey,
      body: { note: 'twice' },
    });
    expect(again.status).toBe(409);
    expect((await h.request('GET', '/admin/policy', { key: p.operatorKey })).body.version).toBe(2);
  });

  it('a rejected loosening change is never written', async () => {
    const p = await newTenant(h);
    const asked = await h.request('PATCH', '/admin/policy', {
      key: p.operatorKey,
      body: { regions: ['US', 'MX'], reason: 'expansion' },
    });
    expect(asked.status).toBe(202);
    const rejected = await h.request('POST', `/admin/actions/${asked.body.id}/reject`, {
      key: p.approverKey,
      body: { note: 'not yet' },
    });
    expect(rejected.body.status).toBe('rejected');
    expect((await h.request('GET', '/admin/policy', { key: p.operatorKey })).body).toMatchObject({
      version: 1,
      policy: { regions: ['US'] },
    });
  });

  it('records the policy version a card was issued under', async () => {
    const p = await newTenant(h);
    const user = await newUser(h, p);
    await h.request('PATCH', '/admin/policy', { key: p.operatorKey, body: { weeklyCardLimitPerUser: 3 } });
    const card = (await issueCard(h, p, user.id)).body;
    expect((await h.knex('cards').where({ id: card.id }).first()).policyVersion).toBe(2);
  });
});
