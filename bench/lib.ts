import fs from 'node:fs';
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

/** Open-loop load: starts `fn` at `ratePerS` for `seconds`, whatever the latency; returns latencies (ms). */
export async function atFixedRate(
  ratePerS: number,
  seconds: number,
  fn: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; errors: number }> {
  const total = Math.round(ratePerS * seconds);
  const latencies: number[] = [];
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
        () => void latencies.push(performance.now() - t0),
        () => void errors++,
      ),
    );
  }
  await Promise.all(inflight);
  return { latencies, errors };
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
