/**
 * `npm run bench:auth`: end-to-end latency of signed `authorization.request` deliveries (the
 * partner's view: POST to the answer) at a fixed arrival rate and at saturation, beside a floor
 * measured in the same run on the same Temporal server: a bare `executeUpdate` on a workflow that
 * does nothing but answer it. Also counts answers past the program's deadline (stand-ins).
 * Results: bench/results/auth.{json,md}.
 */
import crypto from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
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
import { echoUpdate, type floorWorkflow } from './floor-workflow';

const RATES = (process.env.BENCH_RATES ?? '50').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CARDS = Number(process.env.BENCH_CARDS ?? 20);
const DEADLINE_MS = 1_500;

async function main(): Promise<void> {
  const p = await startBenchPlatform('bench-auth');
  const cpu = cpuMeter(p.pids);

  // The floor: a trivial workflow per card slot, its worker in this process, on the same server.
  progress('starting the floor workflow worker');
  const floorQueue = 'bench-floor';
  const floorConnection = await NativeConnection.connect({ address: p.stack.temporalAddress });
  const floorWorker = await Worker.create({
    connection: floorConnection,
    namespace: p.stack.temporalNamespace,
    taskQueue: floorQueue,
    workflowsPath: require.resolve('./floor-workflow'),
  });
  const floorRunning = floorWorker.run();
  const floorHandles = await Promise.all(
    Array.from({ length: CARDS }, (_, i) =>
      p.temporal.workflow.start<typeof floorWorkflow>('floorWorkflow', {
        taskQueue: floorQueue,
        workflowId: `bench-floor-${i}-${Date.now()}`,
      }),
    ),
  );
  let floorN = 0;
  const floorUpdate = async (): Promise<void> => {
    const n = floorN++;
    await floorHandles[n % floorHandles.length]!.executeUpdate(echoUpdate, { args: [n] });
  };

  progress(`issuing ${CARDS} cards`);
  const { tenant, cards } = await benchTenant(p, 'bench-auth', CARDS, {
    policy: { authorizationTimeoutMs: DEADLINE_MS, standInDecision: 'decline' },
  });
  const hookUrl = `${p.baseUrl}${new URL(tenant.sandboxWebhookUrl).pathname}`;
  let sent = 0;
  const outcomes = { approved: 0, declined: 0, standIn: 0, pastDeadline: 0 };
  const authorize = async (): Promise<void> => {
    const n = sent++;
    const id = `evt_${crypto.randomBytes(8).toString('hex')}`;
    const raw = JSON.stringify({
      id,
      type: 'authorization.request',
      created: new Date().toISOString(),
      data: {
        transactionId: `tx_${id}`,
        cardId: cards[n % cards.length]!.partnerCardId,
        amount: 100,
        currency: 'USD',
        merchant: { name: 'Bench', mcc: '5411', country: 'US', region: 'US-CA' },
      },
    });
    const t0 = performance.now();
    const res = await post(
      hookUrl,
      {
        'content-type': 'application/json',
        ...signStandardWebhook(tenant.sandboxWebhookSecret, `msg_${id}`, raw),
      },
      raw,
    );
    if (performance.now() - t0 > DEADLINE_MS) outcomes.pastDeadline++;
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    const body = JSON.parse(res.body) as { approved: boolean; declineCode?: string };
    if (body.approved) outcomes.approved++;
    else if (body.declineCode === 'STAND_IN') outcomes.standIn++;
    else outcomes.declined++;
  };

  const rows: Array<Record<string, any>> = [];
  for (const rate of RATES) {
    progress(`floor: bare executeUpdate at ${rate}/s for ${SECONDS}s`);
    const floor = await atFixedRate(rate, SECONDS, floorUpdate);
    progress(`authorizations at ${rate}/s for ${SECONDS}s`);
    const before = { ...outcomes };
    const stop = cpu.start();
    const auth = await atFixedRate(rate, SECONDS, authorize);
    const cpuPct = stop();
    const r = {
      load: `${rate}/s`,
      auth: percentiles(auth.latencies),
      errors: auth.errors,
      floor: percentiles(floor.latencies),
      standIns: outcomes.standIn - before.standIn,
      pastDeadline: outcomes.pastDeadline - before.pastDeadline,
      cpu: cpuPct,
    };
    progress(`  p50 ${r.auth.p50} ms (floor ${r.floor.p50}), p99 ${r.auth.p99} ms; CPU ${formatCpu(cpuPct)}`);
    progress(
      `  slowest 1% (start ms → latency ms): ${auth.slowest.map(([at, ms]) => `${at}→${ms}`).join(' ')}`,
    );
    rows.push(r);
  }
  progress(`floor at saturation (${CONCURRENCY} concurrent) for ${SECONDS}s`);
  const floorSat = await atSaturation(CONCURRENCY, SECONDS, floorUpdate);
  progress(`authorizations at saturation (${CONCURRENCY} concurrent) for ${SECONDS}s`);
  const before = { ...outcomes };
  const stop = cpu.start();
  const sat = await atSaturation(CONCURRENCY, SECONDS, authorize);
  const satCpu = stop();
  rows.push({
    load: `saturation (${CONCURRENCY} concurrent)`,
    auth: percentiles(sat.latencies),
    errors: sat.errors,
    perSecond: sat.perSecond,
    floor: percentiles(floorSat.latencies),
    floorPerSecond: floorSat.perSecond,
    standIns: outcomes.standIn - before.standIn,
    pastDeadline: outcomes.pastDeadline - before.pastDeadline,
    cpu: satCpu,
  });

  const result = {
    machine: machine(),
    seconds: SECONDS,
    cards: CARDS,
    deadlineMs: DEADLINE_MS,
    sent,
    outcomes,
    rows,
  };
  const table = [
    '| load | p50 | p95 | p99 | max | floor p50 | floor p99 | p50 ÷ floor p50 | past deadline | stand-ins | throughput (floor) | CPU (% of one core) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.load} | ${r.auth.p50} ms | ${r.auth.p95} ms | ${r.auth.p99} ms | ${r.auth.max} ms | ${r.floor.p50} ms | ${r.floor.p99} ms | ${(r.auth.p50 / r.floor.p50).toFixed(1)}× | ${r.pastDeadline} | ${r.standIns} | ${r.perSecond ? `${r.perSecond}/s (${r.floorPerSecond}/s)` : '—'} | ${formatCpu(r.cpu)} |`,
    ),
  ].join('\n');
  const md = `# bench:auth\n\n${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memGiB} GiB, Node ${result.machine.node}; ${SECONDS}s per step after a 1 s warm-up; ${CARDS} cards; deadline ${DEADLINE_MS} ms (stand-in: decline). Latency is the partner's: signed POST to the answer. Floor: a bare executeUpdate on a trivial workflow on the same Temporal server, in the same run.\n\n${table}\n\nSent ${sent}: approved ${outcomes.approved}, declined ${outcomes.declined}, stand-ins ${outcomes.standIn}, past the deadline ${outcomes.pastDeadline}.\n`;
  const file = writeResults('auth', result, md);
  console.log(md);
  progress(`results in ${file}`);

  floorWorker.shutdown();
  await floorRunning;
  await floorConnection.close();
  await p.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
