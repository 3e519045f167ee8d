/**
 * `npm run dev:latency [-- --rate=50 --seconds=30 --cards=50]`: the authorization latency of a
 * running `npm run dev` (another terminal), as a partner sees it: signed `authorization.request`
 * deliveries to the sandbox webhook at a fixed rate over fresh cards, no warm-up, p50/p99 beside
 * the machine's cores and the CPU priority of each process of the stack. Reads
 * .data/dev-credentials.json; writes nothing but its cards and their authorizations.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atFixedRate, machine, percentiles, post } from '../bench/lib';
import { dataDir, projectRoot } from '../src/infra/paths';
import type { DevCredentials } from '../src/infra/seed';
import { signStandardWebhook } from '../src/partners/sandbox/signature';

function arg(name: string, fallback: number): number {
  const m = process.argv.find((a) => a.startsWith(`--${name}=`));
  return m ? Number(m.split('=')[1]) : fallback;
}

/** The nice value of each process of this clone's stack (API and worker run here; the servers' data is here). */
function priorities(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const ours = fs.readlinkSync(`/proc/${e}/cwd`) === projectRoot || cmd.includes(dataDir());
      if (!ours) continue;
      const group = /server\.ts/.test(cmd)
        ? 'api'
        : /worker\.ts/.test(cmd)
          ? 'worker'
          : /temporal server start-dev|temporal-server/.test(cmd)
            ? 'temporal'
            : /\bpostgres -D/.test(cmd)
              ? 'postgres'
              : null;
      if (!group) continue;
      (out[group] ??= []).push(os.getPriority(Number(e)));
    } catch {
      // exited meanwhile
    }
  }
  for (const k of Object.keys(out)) out[k] = [...new Set(out[k])];
  return out;
}

async function main(): Promise<void> {
  const rate = arg('rate', 50);
  const seconds = arg('seconds', 30);
  const n = arg('cards', 50);
  const creds = JSON.parse(
    fs.readFileSync(path.join(dataDir(), 'dev-credentials.json'), 'utf8'),
  ) as DevCredentials;
  const tenant = creds.tenants[0]!;
  const call = async (method: string, p: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${creds.apiUrl}${p}`, {
      method,
      headers: { authorization: `Bearer ${tenant.appKey}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const run = crypto.randomBytes(4).toString('hex');
  console.log(`issuing ${n} cards`);
  const cards: string[] = [];
  for (let i = 0; i < n; i++) {
    const user = await call('POST', '/v1/users', {
      externalId: `lat-${run}-${i}`,
      name: 'Latency',
      region: 'US-CA',
    });
    const card = await call(
      'POST',
      '/v1/cards',
      {
        userId: user.id,
        currency: 'USD',
        controls: { spendingLimits: [{ amount: 500_000, interval: 'all_time' }] },
      },
      { 'idempotency-key': `lat-${run}-${i}` },
    );
    cards.push(card.partnerCardId as string);
  }
  const hookUrl = `${creds.apiUrl}${new URL(tenant.sandboxWebhookUrl).pathname}`;
  const statuses: Record<number, number> = {};
  let standIns = 0;
  console.log(`authorizations at ${rate}/s for ${seconds} s over ${n} cards (no warm-up)`);
  const result = await atFixedRate(
    rate,
    seconds,
    async (i) => {
      const id = `evt_${crypto.randomBytes(8).toString('hex')}`;
      const raw = JSON.stringify({
        id,
        type: 'authorization.request',
        created: new Date().toISOString(),
        data: {
          transactionId: `tx_${id}`,
          cardId: cards[i % cards.length],
          amount: 100,
          currency: 'USD',
          merchant: { name: 'Latency', mcc: '5411', country: 'US', region: 'US-CA' },
        },
      });
      const res = await post(
        hookUrl,
        {
          'content-type': 'application/json',
          ...signStandardWebhook(tenant.sandboxWebhookSecret, `msg_${id}`, raw),
        },
        raw,
      );
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      if ((JSON.parse(res.body) as { declineCode?: string }).declineCode === 'STAND_IN') standIns++;
    },
    0,
  );
  const p = percentiles(result.latencies);
  const m = machine();
  console.log(
    JSON.stringify({
      machine: m,
      loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
      rate,
      seconds,
      cards: n,
      latencyMs: p,
      errors: result.errors,
      standIns,
      statuses,
      priorities: priorities(),
    }),
  );
  console.log(
    `${m.cores} cores (${m.cpu}): p50 ${p.p50} ms, p99 ${p.p99} ms, max ${p.max} ms over ${p.n} authorizations; errors ${result.errors}, stand-ins ${standIns}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
