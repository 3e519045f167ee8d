/**
 * `npm run bench:auth`: end-to-end latency of signed `authorization.request` deliveries (the
 * partner's view: POST to the answer) at a fixed arrival rate and at saturation, beside a floor
 * measured in the same run on the same Temporal server: a bare `executeUpdate` on a workflow that
 * does nothing but answer it. Also counts answers past the program's deadline (stand-ins).
 * Results: bench/results/<date>-<host>-auth-<HHMM>.{json,md}.
 */
import crypto from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { signStandardWebhook } from '../src/partners/sandbox/signature';
import {
  atFixedRate,
  atSaturation,
  cpuMeter,
  cpuProbe,
  formatCpu,
  histogramBetween,
  machine,
  percentiles,
  post,
  progress,
  scrapeMetrics,
  writeResults,
  type MetricsScrape,
} from './lib';
import { benchTenant, startBenchPlatform } from './platform';
import { echoUpdate, type floorWorkflow } from './floor-workflow';

const RATES = (process.env.BENCH_RATES ?? '50').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CARDS = Number(process.env.BENCH_CARDS ?? 20);
const DEADLINE_MS = 1_500;
/** Each fixed-rate step first runs this long at its rate, unmeasured (reported apart). */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);

async function main(): Promise<void> {
  const probe = cpuProbe();
  progress(`CPU probe (a fixed loop, idle machine): median ${probe.medianMs} ms, max ${probe.maxMs} ms`);
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
  /** Each answer's time split by the API's Server-Timing: storing the delivery, the card's decision, the rest. */
  const phases: Array<{
    n: number;
    total: number;
    ingest: number;
    decide: number;
    card: number;
    write: number;
  }> = [];
  /** The split of the requests numbered from `firstN` on (the measured part of a step). */
  const phaseSummary = (firstN: number) => {
    const step = phases.filter((r) => r.n >= firstN);
    const median = (xs: number[]) => percentiles(xs.filter((x) => !Number.isNaN(x))).p50;
    const of = (rows: typeof step) => ({
      n: rows.length,
      total: median(rows.map((r) => r.total)),
      ingest: median(rows.map((r) => r.ingest)),
      decide: median(rows.map((r) => r.decide)),
      card: median(rows.map((r) => r.card)),
      write: median(rows.map((r) => r.write)),
      outside: median(rows.map((r) => r.total - r.ingest - r.decide)),
    });
    const slowest = [...step]
      .sort((a, b) => b.total - a.total)
      .slice(0, Math.max(1, Math.ceil(step.length / 100)));
    return { all: of(step), slowest1pct: of(slowest) };
  };
  const formatPhases = (p: ReturnType<typeof phaseSummary>['all']) =>
    `${p.total} ms = ingest ${p.ingest} + decide ${p.decide} (the card's answer ${p.card}, the API's write ${p.write}) + outside the handler ${p.outside}`;
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
    const total = performance.now() - t0;
    if (total > DEADLINE_MS) outcomes.pastDeadline++;
    const timing = String(res.headers['server-timing'] ?? '');
    const dur = (name: string) => Number(new RegExp(`${name};dur=([\\d.]+)`).exec(timing)?.[1] ?? NaN);
    phases.push({
      n,
      total,
      ingest: dur('ingest'),
      decide: dur('decide'),
      card: dur('card'),
      write: dur('write'),
    });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    const body = JSON.parse(res.body) as { approved: boolean; declineCode?: string };
    if (body.approved) outcomes.approved++;
    else if (body.declineCode === 'STAND_IN') outcomes.standIn++;
    else outcomes.declined++;
  };

  /** Where an update's time goes, from the worker's and the server's own histograms. */
  const scrape = async () => ({
    worker: await scrapeMetrics(p.metricsUrls.worker),
    temporal: await scrapeMetrics(p.metricsUrls.temporal),
  });
  const inside = (a: { worker: MetricsScrape; temporal: MetricsScrape }, b: typeof a) => ({
    wftScheduleToStartMs: histogramBetween(
      a.worker,
      b.worker,
      'temporal_workflow_task_schedule_to_start_latency',
    ),
    wftExecutionMs: histogramBetween(a.worker, b.worker, 'temporal_workflow_task_execution_latency'),
    localActivityMs: histogramBetween(a.worker, b.worker, 'temporal_local_activity_execution_latency'),
    serverUpdateMs: histogramBetween(
      a.temporal,
      b.temporal,
      'service_latency',
      /operation="UpdateWorkflowExecution"/,
      1000,
    ),
    serverTaskCompletedMs: histogramBetween(
      a.temporal,
      b.temporal,
      'service_latency',
      /operation="RespondWorkflowTaskCompleted"/,
      1000,
    ),
    serverPersistUpdateMs: histogramBetween(
      a.temporal,
      b.temporal,
      'persistence_latency',
      /operation="UpdateWorkflowExecution"/,
      1000,
    ),
  });
  const formatInside = (x: ReturnType<typeof inside>) =>
    Object.entries(x)
      .filter(([, h]) => h)
      .map(([k, h]) => `${k} p50 ${h!.p50} p99 ${h!.p99} (n ${h!.n})`)
      .join('; ');

  const rows: Array<Record<string, any>> = [];
  for (const rate of RATES) {
    progress(`floor: bare executeUpdate at ${rate}/s for ${WARMUP_SECONDS}s + ${SECONDS}s`);
    let floorCpu = cpu.start();
    const floor = await atFixedRate(rate, SECONDS, floorUpdate, WARMUP_SECONDS, () => {
      floorCpu = cpu.start();
    });
    const floorCpuPct = floorCpu();
    progress(`authorizations at ${rate}/s for ${WARMUP_SECONDS}s + ${SECONDS}s`);
    const before = { ...outcomes };
    const phasesFrom = sent + Math.round(rate * WARMUP_SECONDS);
    // The metrics are read before the warm-up, not as the measured part begins: rendering
    // Temporal's metrics page (and parsing it here, at the load generator's priority) took the CPU
    // away from the requests of that second, a spike of its own in every run's first second.
    const scraped = await scrape();
    let stop = cpu.start();
    const auth = await atFixedRate(rate, SECONDS, authorize, WARMUP_SECONDS, () => {
      stop = cpu.start();
    });
    const split = phaseSummary(phasesFrom);
    const internals = inside(scraped, await scrape());
    const cpuPct = stop();
    const r = {
      load: `${rate}/s`,
      auth: percentiles(auth.latencies),
      warmup: percentiles(auth.warmupLatencies),
      errors: auth.errors,
      floor: percentiles(floor.latencies),
      standIns: outcomes.standIn - before.standIn,
      pastDeadline: outcomes.pastDeadline - before.pastDeadline,
      cpu: cpuPct,
      floorCpu: floorCpuPct,
      phases: split,
      internals,
      bySecond: auth.bySecond,
      floorBySecond: floor.bySecond,
    };
    progress(`  p50 ${r.auth.p50} ms (floor ${r.floor.p50}), p99 ${r.auth.p99} ms; CPU ${formatCpu(cpuPct)}`);
    progress(
      `  slowest 1% (start ms → latency ms): ${auth.slowest.map(([at, ms]) => `${at}→${ms}`).join(' ')}`,
    );
    progress(`  floor's CPU: ${formatCpu(floorCpuPct)}`);
    progress(`  warm-up (${WARMUP_SECONDS}s, not measured): p50 ${r.warmup.p50} ms, p99 ${r.warmup.p99} ms`);
    progress(`  inside, warm-up included (histogram bucket bounds, ms): ${formatInside(internals)}`);
    progress(`  median split: ${formatPhases(split.all)}; slowest 1%: ${formatPhases(split.slowest1pct)}`);
    progress(
      `  second by second (p50/p99/max ms): ${auth.bySecond.map((s) => `${s.second}s ${s.p50}/${s.p99}/${s.max}`).join(' · ')}`,
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
    cpuProbe: probe,
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
  const md = `# bench:auth\n\n${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memGiB} GiB, Node ${result.machine.node}; ${SECONDS}s per fixed-rate step after ${WARMUP_SECONDS} s at the same rate (its latencies reported apart); ${CARDS} cards; deadline ${DEADLINE_MS} ms (stand-in: decline). Latency is the partner's: signed POST to the answer. Floor: a bare executeUpdate on a trivial workflow on the same Temporal server, in the same run. CPU probe before the run (a fixed loop on the idle machine: slower or uneven means the host is busy; compare runs by it): median ${probe.medianMs} ms, max ${probe.maxMs} ms.\n\n${table}\n\n${rows
    .filter((r) => r.warmup)
    .map(
      (r) =>
        `At ${r.load}: the ${WARMUP_SECONDS} s warm-up before it (cold JIT, pools, caches) answered at p50 ${r.warmup.p50} ms, p99 ${r.warmup.p99} ms; the floor's own CPU was ${formatCpu(r.floorCpu)}.`,
    )
    .join(
      '\n',
    )}\n\nSent ${sent}: approved ${outcomes.approved}, declined ${outcomes.declined}, stand-ins ${outcomes.standIn}, past the deadline ${outcomes.pastDeadline}.\n`;
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
