/**
 * `npm run bootstrap` as an operator runs it against a production database: as a separate process,
 * on a database `npm run migrate` prepared, twice; and the keys it writes work against the API.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKnex, migrateLatest } from '../src/db/knex';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/api/app';
import { reconciliationSettingsFromEnv } from '../src/infra/seed';
import { createLogger } from '../src/lib/logger';
import { createPartnerRegistry } from '../src/partners/registry';
import { connectClient } from '../src/temporal/connection';
import { Vault } from '../src/vault/vault';
import { createDatabase, dropDatabase } from './helpers/harness';
import { readStackInfo } from './setup/stack-file';

const ROOT = path.resolve(__dirname, '..');

function bootstrap(
  databaseUrl: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bootstrap.ts', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        DATABASE_URL: databaseUrl,
        VAULT_KEY: readStackInfo().vaultKey,
        PUBLIC_URL: 'https://vcn.example.com',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('npm run bootstrap', () => {
  const shared = readStackInfo().databaseUrl;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcn-bootstrap-'));
  const databases: string[] = [];
  const fresh = async (migrate = true): Promise<string> => {
    const url = await createDatabase(shared);
    databases.push(url);
    if (migrate) {
      const knex = createKnex(url, { poolMax: 1 });
      await migrateLatest(knex);
      await knex.destroy();
    }
    return url;
  };
  const counts = async (url: string) => {
    const knex = createKnex(url, { poolMax: 1 });
    try {
      const [keys, tenants, subs] = await Promise.all(
        ['api_keys', 'tenants', 'partner_subscriptions'].map((t) =>
          knex(t).count<{ count: string }[]>({ count: '*' }),
        ),
      );
      return {
        keys: Number(keys![0]!.count),
        tenants: Number(tenants![0]!.count),
        subs: Number(subs![0]!.count),
      };
    } finally {
      await knex.destroy();
    }
  };

  afterAll(async () => {
    for (const url of databases) await dropDatabase(shared, url);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the platform key and the first tenant once, writes them, and a second run changes nothing', async () => {
    const url = await fresh();
    const out = path.join(dir, 'first.json');
    const first = await bootstrap(url, ['--slug', 'acme', '--out', out], { SANDBOX_ENABLED: 'true' });
    expect(first).toMatchObject({ code: 0 });
    expect(first.out).toMatch(/created the platform key and tenant acme/);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(creds).toMatchObject({
      apiUrl: 'https://vcn.example.com',
      platformKey: expect.stringMatching(/^vcn_platform_/),
      tenants: [
        {
          slug: 'acme',
          appKey: expect.stringMatching(/^vcn_app_/),
          operatorKey: expect.stringMatching(/^vcn_operator_/),
          approverKey: expect.stringMatching(/^vcn_approver_/),
          sandboxWebhookUrl: expect.stringMatching(/^https:\/\/vcn\.example\.com\/webhooks\/sandbox\//),
          sandboxWebhookSecret: expect.stringMatching(/^whsec_/),
        },
      ],
    });
    // No secret in what it printed.
    for (const secret of [creds.platformKey, creds.tenants[0].appKey, creds.tenants[0].sandboxWebhookSecret])
      expect(first.out).not.toContain(secret);
    const after = await counts(url);
    expect(after).toEqual({ keys: 4, tenants: 1, subs: 1 });

    const again = path.join(dir, 'again.json');
    const second = await bootstrap(url, ['--slug', 'acme', '--out', again], { SANDBOX_ENABLED: 'true' });
    expect(second).toMatchObject({ code: 0 });
    expect(second.out).toMatch(/already done, nothing changed: a platform key exists/);
    expect(fs.existsSync(again)).toBe(false);
    expect(await counts(url)).toEqual(after);
    // Nor does another slug make a second program behind the operator's back.
    const other = await bootstrap(url, ['--slug', 'other', '--out', again], { SANDBOX_ENABLED: 'true' });
    expect(other.out).toMatch(/nothing changed/);
    expect(await counts(url)).toEqual(after);
  });

  it('gives no sandbox subscription where the sandbox is off, and refuses what it cannot do cleanly', async () => {
    const url = await fresh();
    const out = path.join(dir, 'no-sandbox.json');
    const res = await bootstrap(url, ['--slug', 'prod', '--out', out], { SANDBOX_ENABLED: 'false' });
    expect(res).toMatchObject({ code: 0 });
    const creds = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(Object.keys(creds.tenants[0]).sort()).toEqual([
      'appKey',
      'approverKey',
      'id',
      'operatorKey',
      'slug',
    ]);
    expect(await counts(url)).toEqual({ keys: 4, tenants: 1, subs: 0 });

    // An existing file is never overwritten (and nothing is created first).
    const second = await fresh();
    const clash = await bootstrap(second, ['--slug', 'x1', '--out', out]);
    expect(clash.code).toBe(2);
    expect(clash.out).toMatch(/exists: not overwritten/);
    expect(await counts(second)).toEqual({ keys: 0, tenants: 0, subs: 0 });

    for (const args of [
      ['--out', path.join(dir, 'a.json')],
      ['--slug', 'Bad Slug!', '--out', path.join(dir, 'b.json')],
      ['--slug', 'ok1'],
    ]) {
      const bad = await bootstrap(second, args);
      expect({ args, code: bad.code }).toEqual({ args, code: 2 });
    }
    const unmigrated = await fresh(false);
    const early = await bootstrap(unmigrated, ['--slug', 'early', '--out', path.join(dir, 'early.json')]);
    expect(early.code).toBe(2);
    expect(early.out).toMatch(/not migrated.*npm run migrate/);
    expect(fs.existsSync(path.join(dir, 'early.json'))).toBe(false);
  });

  it('writes keys that authenticate against the API with their roles', async () => {
    const url = await fresh();
    const out = path.join(dir, 'keys.json');
    expect((await bootstrap(url, ['--slug', 'keys', '--out', out], { SANDBOX_ENABLED: 'true' })).code).toBe(
      0,
    );
    const creds = JSON.parse(fs.readFileSync(out, 'utf8'));
    const stack = readStackInfo();
    const knex = createKnex(url, { poolMax: 2 });
    const temporal = await connectClient(stack.temporalAddress, stack.temporalNamespace);
    const vault = new Vault(stack.vaultKey);
    const app = createApp({
      knex,
      temporal,
      vault,
      logger: createLogger({ name: 'bootstrap-test', level: 'silent' }),
      cards: { taskQueue: 'bootstrap-test-unused' },
      partners: createPartnerRegistry({ knex, vault, publicUrl: () => 'https://vcn.example.com' }),
      config: {
        publicUrl: 'https://vcn.example.com',
        temporalUiUrl: 'http://127.0.0.1:1',
        temporalNamespace: stack.temporalNamespace,
        bodyLimitBytes: 1024 * 1024,
        sandboxEnabled: true,
        reconciliation: reconciliationSettingsFromEnv({}),
      },
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const t = creds.tenants[0];
      for (const [key, role] of [
        [creds.platformKey, 'platform'],
        [t.appKey, 'app'],
        [t.operatorKey, 'operator'],
        [t.approverKey, 'approver'],
      ]) {
        const res = await fetch(`${base}/admin/me`, { headers: { authorization: `Bearer ${key}` } });
        expect({ role, status: res.status }).toEqual({ role, status: 200 });
        expect(((await res.json()) as { role: string }).role).toBe(role);
      }
      const me = await fetch(`${base}/admin/me`, { headers: { authorization: `Bearer ${t.operatorKey}` } });
      expect(((await me.json()) as { tenant: { id: string; slug: string } }).tenant).toMatchObject({
        id: t.id,
        slug: 'keys',
      });
    } finally {
      await new Promise((r) => server.close(r));
      await temporal.connection.close();
      await knex.destroy();
    }
  });
});
