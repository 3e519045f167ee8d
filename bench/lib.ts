import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export function percentiles(samples: number[]): {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
} {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? NaN) };
}

/**
 * Open-loop load: starts `fn` at `ratePerS` for `warmupS` + `seconds`, whatever the latency, and
 * returns the latencies (ms) of the `seconds` after the warm-up (new connections, JIT, caches).
 */
export async function atFixedRate(
  ratePerS: number,
  seconds: number,
  fn: (i: number) => Promise<void>,
  warmupS = 1,
  /** Called once, when the warm-up ends and the measured part begins. */
  onMeasuring?: () => void,
): Promise<{
  latencies: number[];
  /** The warm-up's own latencies (cold JIT, connection pools, caches), kept apart. */
  warmupLatencies: number[];
  errors: number;
  slowest: Array<[atMs: number, ms: number]>;
  bySecond: Array<{ second: number; n: number; p50: number; p99: number; max: number }>;
}> {
  const warmup = Math.round(ratePerS * warmupS);
  const total = warmup + Math.round(ratePerS * seconds);
  const latencies: number[] = [];
  const warmupLatencies: number[] = [];
  const timeline: Array<[number, number]> = [];
  const warmupTimeline: Array<[number, number]> = [];
  let errors = 0;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (i === warmup) onMeasuring?.();
    const t0 = performance.now();
    inflight.push(
      fn(i).then(
        () => {
          const point: [number, number] = [
            Math.round(t0 - started - warmupS * 1000),
            Math.round(performance.now() - t0),
          ];
          if (i < warmup) {
            warmupLatencies.push(performance.now() - t0);
            return void warmupTimeline.push(point);
          }
          latencies.push(performance.now() - t0);
          timeline.push(point);
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inflight);
  // Second by second (the warm-up's seconds negative): a bad second means a stall, bad seconds
  // throughout mean steady contention.
  const bySecond = new Map<number, number[]>();
  for (const [at, ms] of [...warmupTimeline, ...timeline]) {
    const sec = Math.floor(at / 1000);
    bySecond.set(sec, [...(bySecond.get(sec) ?? []), ms]);
  }
  const perSecondStats = [...bySecond.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([second, ms]) => {
      const { n, p50, p99, max } = percentiles(ms);
      return { second, n, p50, p99, max };
    });
  // When the slowest requests started: clustered means a stall, spread means steady contention.
  const slowest = timeline
    .sort((a, b) => b[1] - a[1])
    .slice(0, Math.max(1, Math.ceil(timeline.length / 100)));
  return {
    latencies,
    warmupLatencies,
    errors,
    slowest: slowest.sort((a, b) => a[0] - b[0]),
    bySecond: perSecondStats,
  };
}

/** Closed-loop load: `concurrency` callers back to back for `seconds`; returns latencies and throughput. */
export async function atSaturation(concurrency: number, seconds: number, fn: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await fn(i++);
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  return {
    latencies,
    errors,
    perSecond: Math.round((latencies.length / (performance.now() - started)) * 1000),
  };
}

export function machine() {
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** A short, stable name for this host in result file names: CPU vendor/family and core count. */
export function hostSlug(): string {
  const m = machine();
  const model = m.cpu.toLowerCase();
  const family = /epyc/.test(model)
    ? 'amd-epyc'
    : /xeon/.test(model)
      ? 'intel-xeon'
      : model
          .replace(/\(r\)|\(tm\)|cpu|@.*$/g, '')
          .trim()
          .split(/\s+/)
          .slice(0, 2)
          .join('-') || 'host';
  return `${family.replace(/[^a-z0-9-]/g, '')}-${m.cores}c`;
}

/**
 * Writes one run's results as `bench/results/<date>-<host>-<name>-<HHMM>.{json,md}` (UTC): one dated
 * file per host and run, so runs accumulate as records instead of being rewritten or narrated.
 */
export function writeResults(name: string, json: unknown, markdown: string): string {
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const now = new Date().toISOString();
  const base = `${now.slice(0, 10)}-${hostSlug()}-${name}-${now.slice(11, 13)}${now.slice(14, 16)}`;
  fs.writeFileSync(path.join(dir, `${base}.json`), `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, `${base}.md`), markdown);
  return path.join(dir, `${base}.md`);
}

export const progress = (msg: string): void =>
  console.log(`[bench] ${new Date().toISOString().slice(11, 19)} ${msg}`);

/** CPU seconds stolen from this (virtual) machine so far, all cores (Linux /proc/stat). */
function stealSeconds(): number {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    return Number(cpu[8] ?? 0) / 100; // user nice system idle iowait irq softirq steal
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by each group of processes (Linux /proc), grouped by `groupOf`. */
function cpuByGroup(groupOf: (pid: number, comm: string) => string | null): Map<string, number> {
  const ticks = 100; // USER_HZ on Linux
  const out = new Map<string, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const group = groupOf(Number(entry), comm);
    if (!group) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after comm: state(0) … utime(11) stime(12)
    out.set(group, (out.get(group) ?? 0) + (Number(f[11]) + Number(f[12])) / ticks);
  }
  return out;
}

/**
 * Measures where the CPU went during a step: percent of one core per process group (the bench
 * client, the API, the worker, Temporal, PostgreSQL), so a latency figure comes with its cause.
 */
export function cpuMeter(pids: { api?: number; worker?: number }) {
  const groupOf = (pid: number, comm: string): string | null =>
    pid === process.pid
      ? 'bench client'
      : pid === pids.api
        ? 'api'
        : pid === pids.worker
          ? 'worker'
          : comm.startsWith('temporal')
            ? 'temporal'
            : comm.startsWith('postgres')
              ? 'postgres'
              : null;
  return {
    start() {
      const t0 = performance.now();
      const before = cpuByGroup(groupOf);
      const stealBefore = stealSeconds();
      return () => {
        const seconds = (performance.now() - t0) / 1000;
        const after = cpuByGroup(groupOf);
        const pct: Record<string, number> = {};
        for (const [g, v] of after) pct[g] = Math.round(((v - (before.get(g) ?? 0)) / seconds) * 100);
        // Time the hypervisor gave this VM's CPUs to someone else: a noisy neighbour shows here.
        pct['stolen by the host'] = Math.round(((stealSeconds() - stealBefore) / seconds) * 100);
        return pct;
      };
    },
  };
}

export const formatCpu = (pct: Record<string, number>): string =>
  Object.entries(pct)
    .sort((a, b) => b[1] - a[1])
    .map(([g, v]) => `${g} ${v}%`)
    .join(', ');

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * POSTs with node:http over kept-alive connections: a lighter client than fetch, so the load
 * generator takes less of the CPU it shares with the system it measures.
 */
export function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Histogram buckets (le → cumulative count) per metric series, from a Prometheus text scrape. */
export type MetricsScrape = Map<string, { name: string; labels: string; buckets: Map<number, number> }>;

export async function scrapeMetrics(url: string): Promise<MetricsScrape> {
  const out: MetricsScrape = new Map();
  if (!url) return out;
  let text: string;
  try {
    text = await (await fetch(url)).text();
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)_bucket\{(.*)\} ([0-9.e+]+)$/i.exec(line);
    if (!m) continue;
    const le = /(?:^|,)le="([^"]+)"/.exec(m[2]!)?.[1];
    if (!le) continue;
    const labels = m[2]!.replace(/(?:^|,)le="[^"]+"/, '');
    const key = `${m[1]}{${labels}}`;
    const series = out.get(key) ?? { name: m[1]!, labels, buckets: new Map<number, number>() };
    series.buckets.set(le === '+Inf' ? Infinity : Number(le), Number(m[3]));
    out.set(key, series);
  }
  return out;
}

/**
 * Quantiles (upper bucket bounds, in the metric's unit × `scale`) of what a histogram recorded
 * between two scrapes, summed over the series whose labels match `labels`.
 */
export function histogramBetween(
  before: MetricsScrape,
  after: MetricsScrape,
  name: string,
  labels: RegExp = /.*/,
  scale = 1,
): { n: number; p50: number; p99: number; max: number } | null {
  const sum = new Map<number, number>();
  for (const [key, s] of after) {
    if (s.name !== name || !labels.test(s.labels)) continue;
    const prior = before.get(key)?.buckets;
    for (const [le, c] of s.buckets) sum.set(le, (sum.get(le) ?? 0) + c - (prior?.get(le) ?? 0));
  }
  const bounds = [...sum.keys()].sort((a, b) => a - b);
  const n = sum.get(Infinity) ?? 0;
  if (!n) return null;
  const at = (q: number) => {
    const want = Math.ceil(q * n);
    const le = bounds.find((b) => (sum.get(b) ?? 0) >= want) ?? Infinity;
    return Math.round(le * scale * 1000) / 1000;
  };
  return { n, p50: at(0.5), p99: at(0.99), max: at(1) };
}

/**
 * A fixed piece of CPU work timed `rounds` times on an otherwise idle machine: on a virtual
 * machine, a slow or uneven result means the host is lending this machine's cores to others,
 * which every latency figure of the run then carries.
 */
export function cpuProbe(rounds = 15): { medianMs: number; maxMs: number } {
  const times: number[] = [];
  let x = 0;
  for (let r = 0; r < rounds + 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 2e7; i++) x = (x * 31 + i) | 0;
    if (r >= 3) times.push(performance.now() - t0); // the first rounds warm the JIT
  }
  if (x === 0.5) console.log(x); // keeps the loop from being optimised away
  const { p50, max } = percentiles(times);
  return { medianMs: p50, maxMs: max };
}
