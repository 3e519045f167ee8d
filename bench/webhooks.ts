/**
 * `npm run bench:webhooks`: acknowledgement latency of signed sandbox deliveries at fixed rates and
 * at saturation, the floor measured in the same run (a bare insert of a raw delivery into the same
 * PostgreSQL), and how fast acknowledged deliveries are applied by the card workflows. Checks that
 * none is lost. Results: bench/results/webhooks.{json,md}.
 */
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createApp } from '../src/api/app';
import { createKnex, migrateLatest } from '../src/db/knex';
import { dataDir, projectRoot } from '../src/infra/paths';
import { startStack } from '../src/infra/stack';
import { createLogger } from '../src/lib/logger';
import { newId } from '../src/lib/ids';
import { signStandardWebhook } from '../src/partners/sandbox/signature';
import { createApiKey } from '../src/services/api-keys';
import { startSweeper } from '../src/services/webhooks';
import { generateVaultKeySpec, Vault } from '../src/vault/vault';
import { createWorker } from '../src/worker/create-worker';
import { atFixedRate, atSaturation, machine, percentiles, progress, writeResults } from './lib';

const RATES = (process.env.BENCH_RATES ?? '100,200').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const quiet = {
    info: () => undefined,
    warn: () => undefined,
    error: (o: object, m?: string) => console.error(m, o),
  };
  progress('starting PostgreSQL and Temporal under .data/bench');
  const stack = await startStack({
    dir: path.join(dataDir(), 'bench'),
    databaseName: 'vcn_bench',
    freshDatabase: true,
    freshTemporal: true,
    ui: false,
    log: quiet,
  });
  const knex = createKnex(stack.databaseUrl, { poolMax: 40 });
  await migrateLatest(knex);
  const vaultKey = generateVaultKeySpec('bench');
  const vault = new Vault(vaultKey);
  const logger = createLogger({
    name: 'bench',
    level: 'warn',
    stdout: false,
    file: path.join(dataDir(), 'bench', 'bench.log'),
  });
  const taskQueue = 'bench-cards';
  // The worker runs in a process of its own, as in production; BENCH_WORKER=inline runs it in this one.
  const inline = process.env.BENCH_WORKER === 'inline';
  const w = inline
    ? await createWorker({
        knex,
        vault,
        sandboxSecret: vaultKey,
        temporal: { address: stack.temporalAddress, namespace: stack.temporalNamespace, taskQueue },
      })
    : null;
  const running = w?.worker.run();
  const child = inline
    ? null
    : spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'worker.ts')], {
        cwd: projectRoot,
        env: {
          ...process.env,
          DATABASE_URL: stack.databaseUrl,
          TEMPORAL_ADDRESS: stack.temporalAddress,
          TEMPORAL_TASK_QUEUE: taskQueue,
          VAULT_KEY: vaultKey,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
  if (child) {
    progress('starting the worker process');
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => b.toString().includes('worker started') && resolve());
      child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
    });
  }
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const temporal = new Client({ connection, namespace: stack.temporalNamespace });
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cards = { taskQueue };
  server.on(
    'request',
    createApp({
      knex,
      temporal,
      vault,
      logger,
      cards,
      config: {
        publicUrl: baseUrl,
        temporalUiUrl: '',
        temporalNamespace: 'default',
        bodyLimitBytes: 1 << 20,
        sandboxEnabled: true,
      },
    }).callback(),
  );
  const sweeper = startSweeper({ knex, vault, temporal, cards, log: logger }, 500);

  const call = async (
    method: string,
    p: string,
    key: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${baseUrl}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const platform = await createApiKey(knex, null, 'platform', 'bench');
  const tenant = (
    await call('POST', '/admin/tenants', platform.key, {
      slug: 'bench',
      name: 'Bench',
      policy: { maxCardSpendLimit: 1e12, defaultSpendingLimits: [{ amount: 1e12, interval: 'all_time' }] },
    })
  ).body;
  progress('issuing cards');
  const partnerCardIds: string[] = [];
  for (let i = 0; i < 20; i++) {
    const user = (
      await call('POST', '/v1/users', tenant.appKey, { externalId: `u${i}`, name: 'Bench', region: 'US-CA' })
    ).body;
    const card = (
      await call(
        'POST',
        '/v1/cards',
        tenant.appKey,
        {
          userId: user.id,
          currency: 'USD',
          controls: { spendingLimits: [{ amount: 1e12, interval: 'all_time' }] },
        },
        { 'idempotency-key': `c${i}` },
      )
    ).body;
    partnerCardIds.push(card.partnerCardId);
  }
  const hookPath = new URL(tenant.sandboxWebhookUrl).pathname;

  let sent = 0;
  const deliver = async (): Promise<void> => {
    const n = sent++;
    const id = `evt_${crypto.randomBytes(8).toString('hex')}`;
    const raw = JSON.stringify({
      id,
      type: 'transaction.cleared',
      created: new Date().toISOString(),
      data: {
        transactionId: `tx_${n}`,
        cardId: partnerCardIds[n % partnerCardIds.length],
        amount: 100,
        currency: 'USD',
      },
    });
    const res = await fetch(`${baseUrl}${hookPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signStandardWebhook(tenant.sandboxWebhookSecret, `msg_${id}`, raw),
      },
      body: raw,
    });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.arrayBuffer();
  };
  const floorInsert = async (): Promise<void> => {
    await knex('webhook_deliveries').insert({
      id: newId('webhookEvent'),
      tenantId: tenant.id,
      subscriptionId: hookPath.split('/').pop(),
      partner: 'sandbox',
      headers: '{}',
      rawBody: Buffer.from('{"floor":true}'),
    });
  };

  const rows: Array<Record<string, unknown>> = [];
  for (const rate of RATES) {
    progress(`floor: bare insert of a raw delivery at ${rate}/s for ${SECONDS}s`);
    const floor = await atFixedRate(rate, SECONDS, floorInsert);
    progress(`webhooks at ${rate}/s for ${SECONDS}s`);
    const hooks = await atFixedRate(rate, SECONDS, deliver);
    rows.push({
      load: `${rate}/s`,
      ack: percentiles(hooks.latencies),
      ackErrors: hooks.errors,
      floor: percentiles(floor.latencies),
    });
  }
  progress(`floor at saturation (${CONCURRENCY} concurrent) for ${SECONDS}s`);
  const floorSat = await atSaturation(CONCURRENCY, SECONDS, floorInsert);
  progress(`webhooks at saturation (${CONCURRENCY} concurrent) for ${SECONDS}s`);
  const sentBeforeSat = sent;
  const satStarted = Date.now();
  const sat = await atSaturation(CONCURRENCY, SECONDS, deliver);
  rows.push({
    load: `saturation (${CONCURRENCY} concurrent)`,
    ack: percentiles(sat.latencies),
    ackErrors: sat.errors,
    acceptedPerS: sat.perSecond,
    floor: percentiles(floorSat.latencies),
    floorPerS: floorSat.perSecond,
  });

  progress(`waiting until all ${sent} deliveries are applied`);
  const countApplied = async () =>
    Number(
      (
        await knex('transaction_events')
          .where({ tenantId: tenant.id })
          .count<{ count: number }[]>('* as count')
      )[0]!.count,
    );
  let applied = await countApplied();
  const satApplied0 = Date.now();
  for (let last = -1; applied < sent;) {
    await new Promise((r) => setTimeout(r, 1000));
    applied = await countApplied();
    if (applied !== last) progress(`applied ${applied}/${sent}`);
    last = applied;
    if (Date.now() - satApplied0 > 10 * 60_000) break;
  }
  const appliedPerS = Math.round(((sent - sentBeforeSat) / Math.max(1, Date.now() - satStarted)) * 1000);
  const stored = Number(
    (
      await knex('webhook_deliveries')
        .where({ tenantId: tenant.id })
        .whereRaw("headers <> '{}'::jsonb")
        .count<{ count: number }[]>('* as count')
    )[0]!.count,
  );
  const duplicatesApplied = Number(
    (
      await knex.raw(
        `SELECT count(*) - count(DISTINCT event_key) AS d FROM transaction_events WHERE tenant_id = ?`,
        [tenant.id],
      )
    ).rows[0].d,
  );

  const result = {
    machine: machine(),
    seconds: SECONDS,
    sent,
    stored,
    applied,
    duplicatesApplied,
    lost: sent - applied,
    appliedPerSAfterSaturation: appliedPerS,
    rows,
  };
  const table = [
    '| load | ack p50 | ack p99 | ack max | errors | floor p50 | floor p99 | accepted/s | floor/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r: any) =>
        `| ${r.load} | ${r.ack.p50} ms | ${r.ack.p99} ms | ${r.ack.max} ms | ${r.ackErrors} | ${r.floor.p50} ms | ${r.floor.p99} ms | ${r.acceptedPerS ?? '—'} | ${r.floorPerS ?? '—'} |`,
    ),
  ].join('\n');
  const md = `# bench:webhooks\n\n${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memGiB} GiB, Node ${result.machine.node}; ${SECONDS}s per step. Floor: a bare INSERT of a raw delivery into the same PostgreSQL.\n\n${table}\n\nSent ${sent}, stored ${stored}, applied ${applied} (lost ${sent - applied}, applied twice ${duplicatesApplied}); workflows applied about ${appliedPerS} deliveries/s over the saturation phase and the drain after it.\n`;
  const file = writeResults('webhooks', result, md);
  console.log(md);
  progress(`results in ${file}`);

  await sweeper.stop();
  server.close();
  if (w) {
    w.worker.shutdown();
    await running;
    await w.connection.close();
  }
  if (child) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await connection.close();
  await knex.destroy();
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
