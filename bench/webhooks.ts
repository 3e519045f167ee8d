/**
 * `npm run bench:webhooks`: acknowledgement latency of signed sandbox deliveries at fixed rates and
 * at saturation, the floor measured in the same run (a bare insert of a raw delivery into the same
 * PostgreSQL), and how fast acknowledged deliveries are applied by the card workflows. Checks that
 * none is lost. Results: bench/results/<date>-<host>-webhooks-<HHMM>.{json,md}.
 */
import crypto from 'node:crypto';
import { newId } from '../src/lib/ids';
import { signStandardWebhook } from '../src/partners/sandbox/signature';
import {
  atFixedRate,
  atSaturation,
  cpuMeter,
  formatCpu,
  machine,
  percentiles,
  post,
  progress,
  writeResults,
} from './lib';
import { benchTenant, startBenchPlatform } from './platform';

const RATES = (process.env.BENCH_RATES ?? '100,200').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function main(): Promise<void> {
  const p = await startBenchPlatform('bench-webhooks');
  const { knex, baseUrl } = p;
  const cpu = cpuMeter(p.pids);
  progress('issuing cards');
  const { tenant, cards } = await benchTenant(p, 'bench', 20);
  const partnerCardIds = cards.map((c) => c.partnerCardId);
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
    const res = await post(
      `${baseUrl}${hookPath}`,
      {
        'content-type': 'application/json',
        ...signStandardWebhook(tenant.sandboxWebhookSecret, `msg_${id}`, raw),
      },
      raw,
    );
    if (res.status !== 200) throw new Error(`status ${res.status}`);
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
    const stopCpu = cpu.start();
    const hooks = await atFixedRate(rate, SECONDS, deliver);
    const cpuPct = stopCpu();
    progress(`  ack p99 ${percentiles(hooks.latencies).p99} ms; CPU ${formatCpu(cpuPct)}`);
    progress(
      `  slowest 1% (start ms → latency ms): ${hooks.slowest.map(([at, ms]) => `${at}→${ms}`).join(' ')}`,
    );
    rows.push({
      load: `${rate}/s`,
      ack: percentiles(hooks.latencies),
      ackErrors: hooks.errors,
      floor: percentiles(floor.latencies),
      cpu: cpuPct,
      slowest: hooks.slowest,
    });
  }
  progress(`floor at saturation (${CONCURRENCY} concurrent) for ${SECONDS}s`);
  const floorSat = await atSaturation(CONCURRENCY, SECONDS, floorInsert);
  progress(`webhooks at saturation (${CONCURRENCY} concurrent) for ${SECONDS}s`);
  const stopSatCpu = cpu.start();
  const sat = await atSaturation(CONCURRENCY, SECONDS, deliver);
  const satCpu = stopSatCpu();
  rows.push({
    cpu: satCpu,
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
  // Applied throughput: how fast the backlog left after the saturation step drains.
  let applied = await countApplied();
  const drain0 = { at: Date.now(), applied };
  for (let last = -1; applied < sent;) {
    await new Promise((r) => setTimeout(r, 1000));
    applied = await countApplied();
    if (applied !== last) progress(`applied ${applied}/${sent}`);
    last = applied;
    if (Date.now() - drain0.at > 10 * 60_000) break;
  }
  const drainS = (Date.now() - drain0.at) / 1000;
  const appliedPerS = drainS >= 2 ? Math.round((applied - drain0.applied) / drainS) : null;
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
    '| load | ack p50 | ack p99 | ack max | errors | floor p50 | floor p99 | accepted/s | floor/s | CPU (% of one core) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r: any) =>
        `| ${r.load} | ${r.ack.p50} ms | ${r.ack.p99} ms | ${r.ack.max} ms | ${r.ackErrors} | ${r.floor.p50} ms | ${r.floor.p99} ms | ${r.acceptedPerS ?? '—'} | ${r.floorPerS ?? '—'} | ${formatCpu(r.cpu)} |`,
    ),
  ].join('\n');
  const md = `# bench:webhooks\n\n${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memGiB} GiB, Node ${result.machine.node}; ${SECONDS}s per step after a 1 s warm-up at the same rate. Floor: a bare INSERT of a raw delivery into the same PostgreSQL.\n\n${table}\n\nSent ${sent}, stored ${stored}, applied ${applied} (lost ${sent - applied}, applied twice ${duplicatesApplied}); ${appliedPerS === null ? 'no backlog was left after the saturation step' : `the backlog left after the saturation step drained at ${appliedPerS} applied deliveries/s`}.\n`;
  const file = writeResults('webhooks', result, md);
  console.log(md);
  progress(`results in ${file}`);

  await p.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
