import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import YAML from 'yaml';
import { resolveTemporalCli } from '../src/infra/temporal-cli';
import { spawnSync } from 'node:child_process';
import { DYNAMIC_CONFIG_FILE } from '../src/infra/dynamic-config';
import { startTemporalCluster, type TemporalClusterHandle } from '../src/infra/temporal-cluster';
import { resolveTemporalServer } from '../src/infra/temporal-server-build';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../src/workflows/search-attributes';
import { startHarness, type Harness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { merchant, sendEvent } from './helpers/webhooks';
import { readStackInfo, testDataDir } from './setup/stack-file';

/**
 * The Temporal server on PostgreSQL as a cluster runs it (src/infra/temporal-cluster.ts), on the
 * test run's embedded PostgreSQL with databases of its own: the real app issues a card and
 * authorizes on it through this server, the server is killed (SIGKILL) and started again on the
 * same ports and databases, and the same card workflow answers with the books it had before.
 */
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
// The first run on a machine builds the server with go install (minutes on 2 cores).
jest.setTimeout(1_200_000);

const prefix = `temporal_t${process.pid}`;
const dir = path.join(testDataDir, `temporal-cluster-${process.pid}`);
const adminUrl = (() => {
  const url = new URL(readStackInfo().databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
})();

let cluster: TemporalClusterHandle;
let h: Harness;
let t: TestTenant;

beforeAll(async () => {
  const cli = await resolveTemporalCli(quiet);
  cluster = await startTemporalCluster({
    dir,
    adminUrl,
    namespace: 'default',
    databasePrefix: prefix,
    fresh: true,
    cliPath: cli.path,
    server: await resolveTemporalServer(quiet),
    log: quiet,
  });
  h = await startHarness({ temporalAddress: cluster.address, ownDatabase: true });
  t = await newTenant(h);
});
afterAll(async () => {
  await h?.stop();
  await cluster?.stop();
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  for (const db of [prefix, `${prefix}_visibility`])
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(db)} WITH (FORCE)`);
  await admin.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

const authorize = async (partnerCardId: string, amount: number) => {
  const res = await sendEvent(h, t, 'authorization.request', {
    transactionId: uniq('txn'),
    cardId: partnerCardId,
    amount,
    currency: 'USD',
    merchant,
  });
  expect(res.status).toBe(200);
  return res.body as { approved: boolean; declineCode?: string };
};

describe('the Temporal server on PostgreSQL', () => {
  it('runs on databases of its own with the config, the dynamic config and the search attributes the platform needs', async () => {
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string; owner: string }>(
        `SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname IN ($1, $2) ORDER BY datname`,
        [prefix, `${prefix}_visibility`],
      );
      expect(rows).toEqual([
        { datname: prefix, owner: cluster.persistence.user },
        { datname: `${prefix}_visibility`, owner: cluster.persistence.user },
      ]);
    } finally {
      await admin.end();
    }
    const config = YAML.parse(fs.readFileSync(path.join(dir, 'config', 'development.yaml'), 'utf8'));
    // The file docker-compose.yml mounts into its server, not a copy.
    expect(config.dynamicConfigClient.filepath).toBe(DYNAMIC_CONFIG_FILE);
    const compose = YAML.parse(fs.readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { volumes?: string[]; environment?: Record<string, string> }>;
    };
    const mount = compose.services.temporal!.volumes!.find((v) => v.includes('dynamicconfig'))!;
    const [hostDir, containerDir] = mount.split(':');
    expect(path.resolve(__dirname, '..', hostDir!)).toBe(path.dirname(DYNAMIC_CONFIG_FILE));
    expect(compose.services.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH).toBe(
      `${containerDir}/${path.basename(DYNAMIC_CONFIG_FILE)}`,
    );
    // Valid for this server version: known keys, right types (an unknown key is silently ignored).
    const validated = spawnSync(
      (await resolveTemporalServer(quiet)).serverPath,
      ['validate-dynamic-config', DYNAMIC_CONFIG_FILE],
      { encoding: 'utf8' },
    );
    expect(validated.status).toBe(0);
    // It exits 0 on unknown keys and wrong types too, saying so in warnings.
    expect(`${validated.stdout}${validated.stderr}`).not.toMatch(/warning|error/i);
    // Loopback only.
    for (const s of ['frontend', 'history', 'matching', 'worker'])
      expect(config.services[s].rpc.bindOnLocalHost).toBe(true);

    const { customAttributes } = await h.temporal.connection.operatorService.listSearchAttributes({
      namespace: 'default',
    });
    for (const sa of SEARCH_ATTRIBUTE_DEFINITIONS) expect(Object.keys(customAttributes)).toContain(sa.name);
  });

  it('answers a card workflow after a SIGKILL and a restart on the same ports and databases, with its books', async () => {
    const user = await newUser(h, t);
    const issued = await issueCard(h, t, user.id);
    expect(issued.status).toBe(201);
    const card = issued.body as { id: string; partnerCardId: string; status: string };
    expect(card.status).toBe('active');
    // 15,000 of the card's 20,000 all-time limit.
    expect(await authorize(card.partnerCardId, 15_000)).toMatchObject({ approved: true });

    const pid = cluster.pid()!;
    await cluster.kill('SIGKILL');
    expect(cluster.pid()).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow();
    const address = cluster.address;
    await cluster.restart();
    expect(cluster.address).toBe(address);
    expect(cluster.pid()).not.toBe(pid);

    // Until the worker's polls and the server's shards are back, an authorization gets the
    // stand-in (declined, so the books are unchanged); then the same card answers from what it
    // knew before the kill: 10,000 more is over the limit, 4,000 is within it.
    const restarted = Date.now();
    let answer: { approved: boolean; declineCode?: string };
    let standIns = 0;
    for (;;) {
      answer = await authorize(card.partnerCardId, 10_000);
      if (answer.declineCode !== 'STAND_IN' || Date.now() - restarted > 60_000) break;
      standIns++;
    }
    console.log(
      `the card answered ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart (${standIns} stand-ins before)`,
    );
    expect(answer).toMatchObject({ approved: false, declineCode: 'EXCEEDS_SPENDING_LIMIT' });
    expect(await authorize(card.partnerCardId, 4_000)).toMatchObject({ approved: true });
    const view = (await h.request('GET', `/v1/cards/${card.id}`, { key: t.appKey })).body;
    expect(view.balances.available.all_time).toBe(1_000);
  });
});
