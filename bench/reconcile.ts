/**
 * `npm run bench:reconcile`: one reconciliation run over 1,000,000 partner transaction records
 * (the sandbox partner's books) against the platform's own, with 0.1% drift of every category
 * injected. The run goes the production way: `POST /admin/reconciliations` on the API, the
 * reconciliation workflow on the worker, the partner's listings read page by page over HTTP from
 * `/sandbox/v1` and staged in PostgreSQL, the comparison in SQL.
 *
 * Reports the run's wall time, the worker's and the API's peak RSS, what was found against what was
 * injected (per category, and any false positive), beside two floors measured in the same run on
 * the same database: one sequential read of the whole listing over HTTP without staging, and the
 * bare per-transaction aggregate of the partner's records in SQL.
 *
 * BENCH_RECORDS (default 1,000,000), BENCH_CARDS (20,000), BENCH_DRIFT (0.001).
 */
import fs from 'node:fs';
import { formatCpu, cpuMeter, machine, progress, writeResults } from './lib';
import { startBenchPlatform } from './platform';
import { sandboxProgramKey } from '../src/partners/sandbox/listing';
import { DISCREPANCY_CATEGORIES } from '../src/domain/reconciliation';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const CARDS = Number(process.env.BENCH_CARDS ?? 20_000);
const DRIFT = Number(process.env.BENCH_DRIFT ?? 0.001);
const PAGE = Number(process.env.RECONCILIATION_PAGE_SIZE ?? 5000);
const SLICES = Number(process.env.RECONCILIATION_SLICES ?? 4);

// Shapes of a transaction by `g % 10`: 0–5 authorization + clearing, 6–7 authorization + full
// reversal, 8 authorization + expiry, 9 pending (authorization only, held).

const rssOf = (pid: number): { rssMiB: number; peakMiB: number } => {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
};

async function main(): Promise<void> {
  // The API's manual runs: nothing left to settle (the books are seeded, not live), large pages.
  Object.assign(process.env, {
    RECONCILIATION_SETTLE_MS: '0',
    RECONCILIATION_PAGE_SIZE: String(PAGE),
    RECONCILIATION_SLICES: String(SLICES),
    BENCH_API_PRIORITY: process.env.BENCH_API_PRIORITY ?? '0',
  });
  const p = await startBenchPlatform('bench-reconcile');
  try {
    const tenant = (
      await p.call('POST', '/admin/tenants', p.platformKey, { slug: 'recon', name: 'Reconciliation bench' })
    ).body;
    const user = (
      await p.call('POST', '/v1/users', tenant.appKey, { externalId: 'u0', name: 'Bench', region: 'US-CA' })
    ).body;
    const t = tenant.id as string;
    // Transactions: enough for RECORDS partner records with the shapes above (19 records per 10).
    const txs = Math.round((RECORDS * 10) / 19);
    const perCategoryTx = Math.round(RECORDS * DRIFT);
    const perCategoryCard = Math.max(1, Math.round(CARDS * DRIFT));
    progress(
      `seeding ${CARDS.toLocaleString()} cards and ${txs.toLocaleString()} transactions on both sides`,
    );
    const seedStart = Date.now();
    const k = p.knex;
    await k.raw(`SET maintenance_work_mem = '256MB'`);
    await k.raw(
      `INSERT INTO cards (id, tenant_id, user_id, status, currency, controls, expires_at, partner, partner_card_id, workflow_id,
                          issued_by_type, issued_by_id, policy_version, status_changed_at, created_at)
       SELECT 'card_b' || g, :t, :u, 'active', 'USD', '{}'::jsonb, now() + interval '2 years', 'sandbox', 'sbc_b' || g,
              'card:' || :t || ':card_b' || g, 'app', 'bench', 1, now() - interval '30 days', now() - interval '30 days'
         FROM generate_series(1, :n) g`,
      { t, u: user.id, n: CARDS },
    );
    await k.raw(
      `INSERT INTO sandbox.cards (id, program_id, platform_card_ref, pan_hmac, last4, exp_month, exp_year, status, created_at, updated_at)
       SELECT 'sbc_b' || g, :t, 'card_b' || g, md5(g::text), lpad((g % 10000)::text, 4, '0'), 12, 2030, 'active',
              now() - interval '30 days', now() - interval '30 days'
         FROM generate_series(1, :n) g`,
      { t, n: CARDS },
    );
    // The platform's transactions: one row per transaction with its amounts, as the card workflows keep them.
    await k.raw(
      `INSERT INTO transactions (id, tenant_id, card_id, partner, partner_transaction_id, status, currency,
                                 authorized_amount, held_amount, captured_amount, refunded_amount, reversed_amount,
                                 authorized_at, created_at, updated_at)
       SELECT 'txn_b' || g, :t, 'card_b' || (1 + g % :cards), 'sandbox', 'sbt_b' || g,
              CASE WHEN g % 10 <= 5 THEN 'closed' WHEN g % 10 <= 7 THEN 'reversed' WHEN g % 10 = 8 THEN 'expired' ELSE 'pending' END,
              'USD', 100 + g % 9000,
              CASE WHEN g % 10 = 9 THEN 100 + g % 9000 ELSE 0 END,
              CASE WHEN g % 10 <= 5 THEN 100 + g % 9000 ELSE 0 END, 0,
              CASE WHEN g % 10 IN (6, 7) THEN 100 + g % 9000 ELSE 0 END,
              now() - interval '1 hour' - (g % 1728000) * interval '1 second', now() - interval '1 hour' - (g % 1728000) * interval '1 second',
              now() - interval '1 hour' - (g % 1728000) * interval '1 second'
         FROM generate_series(1, :n) g`,
      { t, n: txs, cards: CARDS },
    );
    // The partner's records of the same transactions.
    await k.raw(
      `INSERT INTO sandbox.transactions (id, program_id, card_id, transaction_id, type, amount, currency, approved, occurred_at)
       SELECT 'sbx_b' || g || '_' || r.n, :t, 'sbc_b' || (1 + g % :cards), 'sbt_b' || g, r.type,
              CASE WHEN r.type = 'expiry' THEN 0 ELSE 100 + g % 9000 END, 'USD',
              CASE WHEN r.type = 'authorization' THEN true END,
              now() - interval '1 hour' - (g % 1728000) * interval '1 second' + r.n * interval '1 minute'
         FROM generate_series(1, :n) g
         CROSS JOIN LATERAL (VALUES (0, 'authorization'),
                                    (1, CASE WHEN g % 10 <= 5 THEN 'clearing' WHEN g % 10 <= 7 THEN 'reversal' WHEN g % 10 = 8 THEN 'expiry' END)) AS r(n, type)
        WHERE r.type IS NOT NULL`,
      { t, n: txs, cards: CARDS },
    );

    // Drift: disjoint sets of transactions (and cards), each injected one way, with the truth kept.
    progress(
      `injecting ${perCategoryTx} drifted transactions per category and ${perCategoryCard} drifted cards per card category`,
    );
    await k.raw(
      `CREATE TABLE bench_expected (category text NOT NULL, key text NOT NULL, PRIMARY KEY (category, key))`,
    );
    // Picks `n` transactions of the given shapes, none picked before, by a stride through the ids.
    const pick = async (category: string, shapes: number[], n: number): Promise<void> => {
      await k.raw(
        `INSERT INTO bench_expected (category, key)
         SELECT :c, 'sbt_b' || g FROM generate_series(1, :txs) g
          WHERE g % 10 = ANY(:shapes::int[]) AND NOT EXISTS (SELECT 1 FROM bench_expected e WHERE e.key = 'sbt_b' || g)
          ORDER BY (g::bigint * 7919) % :txs LIMIT :n`,
        { c: category, txs, shapes, n },
      );
    };
    await pick('missing_internal_transaction', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perCategoryTx);
    await pick('missing_partner_transaction', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perCategoryTx);
    await pick('amount_mismatch', [0, 1, 2, 3, 4, 5], perCategoryTx);
    await pick('duplicate_capture', [0, 1, 2, 3, 4, 5], perCategoryTx);
    await pick('stale_hold', [9], perCategoryTx);
    await pick('currency_mismatch', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perCategoryTx);
    const keys = (c: string) => `SELECT key FROM bench_expected WHERE category = '${c}'`;
    // We never heard of it.
    await k.raw(
      `DELETE FROM transactions WHERE tenant_id = ? AND partner_transaction_id IN (${keys('missing_internal_transaction')})`,
      [t],
    );
    // The partner has no record of it.
    await k.raw(
      `DELETE FROM sandbox.transactions WHERE program_id = ? AND transaction_id IN (${keys('missing_partner_transaction')})`,
      [t],
    );
    // Our capture is 1 off.
    await k.raw(
      `UPDATE transactions SET captured_amount = captured_amount + 1 WHERE tenant_id = ? AND partner_transaction_id IN (${keys('amount_mismatch')})`,
      [t],
    );
    // Settled twice, and both books say so.
    await k.raw(
      `INSERT INTO sandbox.transactions (id, program_id, card_id, transaction_id, type, amount, currency, occurred_at)
       SELECT s.id || '_dup', s.program_id, s.card_id, s.transaction_id, 'clearing', s.amount, s.currency, s.occurred_at + interval '2 minutes'
         FROM sandbox.transactions s WHERE s.program_id = ? AND s.type = 'clearing' AND s.transaction_id IN (${keys('duplicate_capture')})`,
      [t],
    );
    await k.raw(
      `UPDATE transactions SET captured_amount = captured_amount * 2 WHERE tenant_id = ? AND partner_transaction_id IN (${keys('duplicate_capture')})`,
      [t],
    );
    // The partner expired the hold and never said so.
    await k.raw(
      `INSERT INTO sandbox.transactions (id, program_id, card_id, transaction_id, type, amount, currency, occurred_at)
       SELECT s.id || '_exp', s.program_id, s.card_id, s.transaction_id, 'expiry', 0, s.currency, s.occurred_at + interval '3 minutes'
         FROM sandbox.transactions s WHERE s.program_id = ? AND s.transaction_id IN (${keys('stale_hold')})`,
      [t],
    );
    await k.raw(
      `UPDATE transactions SET currency = 'EUR' WHERE tenant_id = ? AND partner_transaction_id IN (${keys('currency_mismatch')})`,
      [t],
    );
    // Cards: frozen at the partner silently, and cards only the partner has.
    await k.raw(
      `INSERT INTO bench_expected (category, key) SELECT 'card_status_mismatch', 'sbc_b' || g FROM generate_series(1, :n) g`,
      { n: perCategoryCard },
    );
    await k.raw(
      `UPDATE sandbox.cards SET status = 'frozen' WHERE program_id = ? AND id IN (${keys('card_status_mismatch')})`,
      [t],
    );
    await k.raw(
      `INSERT INTO sandbox.cards (id, program_id, platform_card_ref, pan_hmac, last4, exp_month, exp_year, status, created_at, updated_at)
       SELECT 'sbc_orphan' || g, :t, 'card_orphan' || g, md5('o' || g), '0000', 12, 2030, 'active', now() - interval '1 day', now() - interval '1 day'
         FROM generate_series(1, :n) g`,
      { t, n: perCategoryCard },
    );
    await k.raw(
      `INSERT INTO bench_expected (category, key) SELECT 'orphan_partner_card', 'sbc_orphan' || g FROM generate_series(1, ?) g`,
      [perCategoryCard],
    );
    await k.raw('ANALYZE');
    const [{ records }] = (
      await k.raw(`SELECT count(*)::int AS records FROM sandbox.transactions WHERE program_id = ?`, [t])
    ).rows;
    const [{ injected }] = (await k.raw(`SELECT count(*)::int AS injected FROM bench_expected`)).rows;
    progress(
      `seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s: ${records.toLocaleString()} partner records, ${injected} injected discrepancies`,
    );

    // Floor 1: the bare per-transaction aggregate of the partner's records, in SQL.
    let t0 = Date.now();
    await k.raw(
      `SELECT count(*) FROM (SELECT transaction_id, sum(amount), count(*) FROM sandbox.transactions WHERE program_id = ? GROUP BY 1) x`,
      [t],
    );
    const floorAggregateS = (Date.now() - t0) / 1000;
    // Floor 2: one sequential read of the whole listing over HTTP, parsed and dropped.
    progress('floor: reading the whole partner listing once over HTTP, without staging');
    t0 = Date.now();
    let listed = 0;
    const key = sandboxProgramKey(p.vault, t);
    for (let cursor: string | null = null; ;) {
      const q = new URLSearchParams({
        limit: String(PAGE),
        from: new Date(Date.now() - 90 * 86_400_000).toISOString(),
        to: new Date(Date.now() + 86_400_000).toISOString(),
      });
      if (cursor) q.set('cursor', cursor);
      const res = await fetch(`${p.baseUrl}/sandbox/v1/transactions?${q}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const page = (await res.json()) as { data: unknown[]; nextCursor: string | null };
      listed += page.data.length;
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    const floorListingS = (Date.now() - t0) / 1000;
    progress(
      `floor: listing read in ${floorListingS.toFixed(1)} s (${listed.toLocaleString()} records), aggregate in ${floorAggregateS.toFixed(2)} s`,
    );

    // The run.
    const cpuDone = cpuMeter(p.pids).start();
    const rssBefore = { worker: rssOf(p.pids.worker), api: rssOf(p.pids.api) };
    let peakWorkerRss = 0;
    let peakApiRss = 0;
    t0 = Date.now();
    const started = await p.call('POST', '/admin/reconciliations', tenant.operatorKey, {
      partner: 'sandbox',
      autoHeal: false,
    });
    if (started.status !== 202) throw new Error(`could not start: ${JSON.stringify(started.body)}`);
    let run: any;
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      peakWorkerRss = Math.max(peakWorkerRss, rssOf(p.pids.worker).rssMiB);
      peakApiRss = Math.max(peakApiRss, rssOf(p.pids.api).rssMiB);
      run = (await p.call('GET', `/admin/reconciliations/${started.body.id}`, tenant.operatorKey)).body;
      const pr = run.progress ?? {};
      progress(
        `${run.status} · ${pr.phase ?? '?'} · ${Number(pr.recordsStaged ?? 0).toLocaleString()} records staged · ${pr.pagesFetched ?? 0} pages · slices ${pr.slices?.done ?? 0}/${pr.slices?.total ?? 0} · worker RSS ${rssOf(p.pids.worker).rssMiB} MiB`,
      );
      if (run.status !== 'running') break;
    }
    const wallS = (Date.now() - t0) / 1000;
    const cpuPct = cpuDone();
    if (run.status !== 'completed') throw new Error(`run ${run.id} ${run.status}: ${run.error}`);
    const workerPeak = rssOf(p.pids.worker).peakMiB;
    const apiPeak = rssOf(p.pids.api).peakMiB;

    // Found against injected, per category; anything found that was not injected is a false positive.
    const byCategory = (
      await k.raw(
        `WITH found AS (SELECT category, coalesce(partner_transaction_id, partner_card_id) AS key FROM discrepancies
                         WHERE tenant_id = ? AND last_seen_run_id = ?)
         SELECT c AS category,
                (SELECT count(*) FROM bench_expected e WHERE e.category = c)::int AS injected,
                (SELECT count(*) FROM found f JOIN bench_expected e USING (category, key) WHERE f.category = c)::int AS found,
                (SELECT count(*) FROM found f WHERE f.category = c AND NOT EXISTS (SELECT 1 FROM bench_expected e WHERE e.category = f.category AND e.key = f.key))::int AS "falsePositives"
           FROM unnest(?::text[]) AS c`,
        [t, run.id, [...DISCREPANCY_CATEGORIES]],
      )
    ).rows as Array<{ category: string; injected: number; found: number; falsePositives: number }>;
    const totals = byCategory.reduce(
      (a, r) => ({
        injected: a.injected + r.injected,
        found: a.found + r.found,
        falsePositives: a.falsePositives + r.falsePositives,
      }),
      { injected: 0, found: 0, falsePositives: 0 },
    );
    const m = machine();
    const result = {
      at: new Date().toISOString(),
      machine: m,
      records,
      transactions: txs,
      cards: CARDS,
      pageSize: PAGE,
      slices: SLICES,
      runId: run.id,
      wallSeconds: wallS,
      progress: run.progress,
      worker: {
        peakRssMiB: workerPeak,
        sampledPeakDuringRunMiB: peakWorkerRss,
        rssBeforeMiB: rssBefore.worker.rssMiB,
      },
      api: { peakRssMiB: apiPeak, sampledPeakDuringRunMiB: peakApiRss, rssBeforeMiB: rssBefore.api.rssMiB },
      cpuPercentOfOneCore: cpuPct,
      floors: { listingReadSeconds: floorListingS, aggregateSeconds: floorAggregateS },
      byCategory,
      totals,
    };
    const md = [
      `# bench:reconcile — ${result.at}`,
      '',
      `${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, Node ${m.node}. ${records.toLocaleString()} partner records (${txs.toLocaleString()} transactions, ${CARDS.toLocaleString()} cards), pages of ${PAGE}, ${SLICES} slices read in parallel.`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| run wall time (POST → completed) | **${wallS.toFixed(1)} s** |`,
      `| floor: one sequential read of the listing over HTTP, no staging | ${floorListingS.toFixed(1)} s |`,
      `| floor: bare per-transaction aggregate in SQL | ${floorAggregateS.toFixed(2)} s |`,
      `| worker peak RSS (VmHWM, whole life) | **${workerPeak} MiB** (before the run: ${rssBefore.worker.rssMiB} MiB) |`,
      `| API peak RSS (serves the listing) | ${apiPeak} MiB (before: ${rssBefore.api.rssMiB} MiB) |`,
      `| found / injected | **${totals.found} / ${totals.injected}** |`,
      `| false positives | **${totals.falsePositives}** |`,
      `| CPU during the run (% of one core) | ${formatCpu(cpuPct)} |`,
      '',
      '| category | injected | found | false positives |',
      '| --- | --- | --- | --- |',
      ...byCategory.map((r) => `| ${r.category} | ${r.injected} | ${r.found} | ${r.falsePositives} |`),
      '',
    ].join('\n');
    const file = writeResults('reconcile', result, md);
    console.log(md);
    progress(`results in ${file}`);
    if (totals.found !== totals.injected || totals.falsePositives) process.exitCode = 1;
  } finally {
    await p.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
