import type { Knex } from 'knex';
import { getPartner, hasPartner } from '../adapter';
import { createPartnerRegistry, DEFAULT_PARTNER, provisionedPartners } from '../registry';
import { SandboxPartner } from './adapter';
import { signStandardWebhook } from './signature';
import { Vault, generateVaultKeySpec } from '../../vault/vault';

// The inbound side is pure: no query is ever made through this knex.
const knex = {} as Knex;
const secret = `whsec_${Buffer.from('0123456789abcdef01234567').toString('base64')}`;
const older = `whsec_${Buffer.from('fedcba9876543210fedcba98').toString('base64')}`;
const sandbox = new SandboxPartner(knex, null);
const delivery = (raw: string, signWith: string, at = new Date()) => ({
  headers: signStandardWebhook(signWith, 'msg_1', raw, at),
  rawBody: Buffer.from(raw),
  receivedAtMs: at.getTime(),
});

describe('the sandbox adapter', () => {
  it('verifies with the current secret, or the previous one during its overlap', () => {
    const raw = '{"id":"evt_1"}';
    expect(sandbox.verify(delivery(raw, secret), { current: secret }, { checkTimestamp: true })).toEqual({
      ok: true,
      secretUsed: 'current',
    });
    expect(
      sandbox.verify(delivery(raw, older), { current: secret, previous: older }, { checkTimestamp: true }),
    ).toEqual({ ok: true, secretUsed: 'previous' });
    expect(sandbox.verify(delivery(raw, older), { current: secret }, { checkTimestamp: true })).toMatchObject(
      {
        ok: false,
      },
    );
  });

  it('rejects a stale signature, except for an operator’s replay of the stored delivery', () => {
    const stale = delivery('{"id":"evt_1"}', secret, new Date(Date.now() - 10 * 60_000));
    expect(sandbox.verify(stale, { current: secret }, { checkTimestamp: true })).toMatchObject({ ok: false });
    expect(sandbox.verify(stale, { current: secret }, { checkTimestamp: false })).toMatchObject({ ok: true });
  });

  describe('the 5-minute timestamp tolerance, at its edge', () => {
    const NOW = Date.parse('2026-12-01T12:00:00Z');
    beforeEach(() => jest.useFakeTimers({ now: NOW }));
    afterEach(() => jest.useRealTimers());
    const check = (signedAtMs: number) =>
      sandbox.verify(
        delivery('{"id":"evt_1"}', secret, new Date(signedAtMs)),
        { current: secret },
        {
          checkTimestamp: true,
        },
      ).ok;

    it('accepts a signature just inside five minutes, old or ahead', () => {
      expect(check(NOW - 300_000)).toBe(true);
      expect(check(NOW - 299_000)).toBe(true);
      expect(check(NOW + 300_000)).toBe(true);
    });

    it('rejects one just outside, old or ahead, whatever the signature', () => {
      expect(check(NOW - 301_000)).toBe(false);
      expect(check(NOW + 301_000)).toBe(false);
      // Stale is stale even with the subscription's previous secret during a rotation.
      const old = delivery('{"id":"evt_1"}', older, new Date(NOW - 301_000));
      expect(
        sandbox.verify(old, { current: secret, previous: older }, { checkTimestamp: true }),
      ).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/timestamp/i),
      });
    });
  });

  it('answers an authorization request in the sandbox’s own shape', () => {
    const context = { deliveryId: 'whe_1' } as Parameters<SandboxPartner['formatAnswer']>[1];
    expect(sandbox.formatAnswer({ approved: true, approvedAmount: 500, duplicate: false }, context)).toEqual({
      status: 200,
      body: { received: true, id: 'whe_1', approved: true, approvedAmount: 500, duplicate: false },
    });
    expect(sandbox.formatAnswer({ approved: false, declineCode: 'MCC_BLOCKED' }, context)).toEqual({
      status: 200,
      body: { received: true, id: 'whe_1', approved: false, declineCode: 'MCC_BLOCKED' },
    });
  });

  it('gives a new tenant’s credentials the contract’s field names, the secret marked as one', () => {
    expect(
      sandbox.provision.credentials({ id: 'psub_1', url: 'http://x/webhooks/sandbox/psub_1', secret }),
    ).toEqual({
      sandboxWebhookUrl: 'http://x/webhooks/sandbox/psub_1',
      sandboxWebhookSecret: secret,
    });
    expect(sandbox.provision.secretFields).toEqual(['sandboxWebhookSecret']);
  });

  it('creates no card in a process without the card secret (an API)', async () => {
    await expect(
      sandbox.createCard(
        { tenantId: 'ten_1', subscriptionId: 'psub_1' },
        { programId: 'ten_1', platformCardRef: 'card_1', expiresAt: new Date(), currency: 'USD' },
      ),
    ).rejects.toThrow(/no sandbox card secret/);
  });
});

describe('the partner registry', () => {
  const registry = createPartnerRegistry({
    knex,
    vault: new Vault(generateVaultKeySpec()),
    publicUrl: () => 'http://127.0.0.1:1',
  });

  it('names each adapter by its own name, the default partner among them', () => {
    for (const [name, adapter] of Object.entries(registry)) expect(adapter.name).toBe(name);
    expect(hasPartner(registry, DEFAULT_PARTNER)).toBe(true);
    expect(provisionedPartners(registry).map((a) => a.name)).toEqual([DEFAULT_PARTNER]);
  });

  it('finds partners by own property only', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(hasPartner(registry, name)).toBe(false);
      expect(() => getPartner(registry, name)).toThrow(/no adapter/);
    }
  });
});
