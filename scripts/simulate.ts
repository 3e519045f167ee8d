/**
 * `npm run simulate [-- options]`: a chaotic day of shopper activity against a running platform
 * (`npm run dev` in another terminal), then a check of its books against the sandbox partner's.
 * Exit code 0 when they match, 1 when they differ.
 *
 *   --cards=N --purchases=N --concurrency=N --seed=N
 *   --chaos=none|mild|wild           a preset, or set each share (0..1):
 *   --duplicates= --reorder= --drops= --delays= --max-delay-ms= --silent=
 *   --tenant=demo                    which tenant of .data/dev-credentials.json
 *   --settle-timeout-ms=60000
 *   --reconcile                      then run a reconciliation and check that everything it finds on
 *                                    the played cards is explained by a silent change made
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataDir } from '../src/infra/paths';
import type { DevCredentials } from '../src/infra/seed';
import { NO_CHAOS, type ChaosOptions } from '../src/simulator/courier';
import { reconcilePlayed } from '../src/simulator/check';
import { formatReport } from '../src/simulator/report';
import { runSimulation } from '../src/simulator/simulator';

const PRESETS: Record<string, ChaosOptions> = {
  none: NO_CHAOS,
  mild: { duplicates: 0.1, reorder: 0.1, drops: 0.05, delays: 0.1, maxDelayMs: 1500, silent: 0 },
  wild: { duplicates: 0.3, reorder: 0.3, drops: 0.15, delays: 0.3, maxDelayMs: 4000, silent: 0.03 },
};

function args(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of process.argv.slice(2)) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a} (see the header of scripts/simulate.ts)`);
    out[m[1]!] = m[2] ?? 'true';
  }
  return out;
}

async function main(): Promise<void> {
  const a = args();
  const credentialsFile = path.join(dataDir(), 'dev-credentials.json');
  if (!fs.existsSync(credentialsFile))
    throw new Error(`${credentialsFile} not found: start the platform with \`npm run dev\` first`);
  const creds = JSON.parse(fs.readFileSync(credentialsFile, 'utf8')) as DevCredentials;
  const tenant = creds.tenants.find((t) => t.slug === (a.tenant ?? 'demo')) ?? creds.tenants[0];
  if (!tenant) throw new Error('no tenant in the credentials file');
  const preset = PRESETS[a.chaos ?? 'wild'];
  if (!preset) throw new Error(`unknown chaos preset ${a.chaos}`);
  const share = (k: string, d: number) => {
    const v = a[k] === undefined ? d : Number(a[k]);
    if (!(v >= 0 && v <= 1)) throw new Error(`--${k} must be between 0 and 1`);
    return v;
  };
  const chaos: ChaosOptions = {
    duplicates: share('duplicates', preset.duplicates),
    reorder: share('reorder', preset.reorder),
    drops: share('drops', preset.drops),
    delays: share('delays', preset.delays),
    maxDelayMs: Number(a['max-delay-ms'] ?? preset.maxDelayMs),
    silent: share('silent', preset.silent),
  };
  const report = await runSimulation({
    baseUrl: creds.apiUrl,
    appKey: tenant.appKey,
    operatorKey: tenant.operatorKey,
    webhookUrl: tenant.sandboxWebhookUrl,
    webhookSecret: tenant.sandboxWebhookSecret,
    cards: Number(a.cards ?? 20),
    purchasesPerCard: Number(a.purchases ?? 10),
    concurrency: Number(a.concurrency ?? 8),
    seed: Number(a.seed ?? Date.now() % 1_000_000),
    chaos,
    settleTimeoutMs: Number(a['settle-timeout-ms'] ?? 60_000),
    progress: (line) => console.log(`[simulate] ${new Date().toISOString().slice(11, 19)} ${line}`),
  });
  const dir = path.join(dataDir(), 'simulations');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${report.runId}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ chaos, ...report }, null, 2)}\n`);
  console.log(formatReport(report));
  let reconciled = true;
  if (a.reconcile) {
    const r = await reconcilePlayed(
      { baseUrl: creds.apiUrl, operatorKey: tenant.operatorKey },
      report.played,
    );
    fs.writeFileSync(file, `${JSON.stringify({ chaos, ...report, reconciliation: r }, null, 2)}\n`);
    console.log(
      `  reconciliation ${r.runId} (${r.seconds.toFixed(1)} s): found ${JSON.stringify(r.found)} on the played cards; ` +
        `silent changes made: ${r.silent.transactions} transactions, ${r.silent.cards} card statuses; ` +
        `unexplained: ${r.unexplained.length}`,
    );
    reconciled = r.unexplained.length === 0;
  }
  console.log(`[simulate] report written to ${file}`);
  process.exitCode = report.ok && reconciled ? 0 : 1;
}

main().catch((err) => {
  console.error(`[simulate] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
