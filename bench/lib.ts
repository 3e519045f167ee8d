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
): Promise<{ latencies: number[]; errors: number; slowest: Array<[atMs: number, ms: number]> }> {
  const warmup = Math.round(ratePerS * warmupS);
  const total = warmup + Math.round(ratePerS * seconds);
  const latencies: number[] = [];
  const timeline: Array<[number, number]> = [];
  let errors = 0;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    inflight.push(
      fn(i).then(
        () => {
          if (i < warmup) return;
          latencies.push(performance.now() - t0);
          timeline.push([Math.round(t0 - started - warmupS * 1000), Math.round(performance.now() - t0)]);
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inflight);
  // When the slowest requests started: clustered means a stall, spread means steady contention.
  const slowest = timeline
    .sort((a, b) => b[1] - a[1])
    .slice(0, Math.max(1, Math.ceil(timeline.length / 100)));
  return { latencies, errors, slowest: slowest.sort((a, b) => a[0] - b[0]) };
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

export function writeResults(name: string, json: unknown, markdown: string): string {
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, `${name}.md`), markdown);
  return path.join(dir, `${name}.md`);
}

export const progress = (msg: string): void =>
  console.log(`[bench] ${new Date().toISOString().slice(11, 19)} ${msg}`);

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
      return () => {
        const seconds = (performance.now() - t0) / 1000;
        const after = cpuByGroup(groupOf);
        const pct: Record<string, number> = {};
        for (const [g, v] of after) pct[g] = Math.round(((v - (before.get(g) ?? 0)) / seconds) * 100);
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
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
