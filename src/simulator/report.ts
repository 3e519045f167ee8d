import type { SimulationReport } from './simulator';

/** The report as lines for a terminal. */
export function formatReport(r: SimulationReport): string {
  const d = r.delivery;
  const lines = [
    `simulation ${r.runId} (seed ${r.seed}) in ${r.seconds}s: ${r.ok ? 'BOOKS MATCH' : 'BOOKS DIFFER'}`,
    `  cards ${r.cards}; authorizations approved ${r.authorizations.approved}, declined ${r.authorizations.declined}` +
      (Object.keys(r.authorizations.byCode).length
        ? ` (${Object.entries(r.authorizations.byCode)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`
        : ''),
    `  lifecycle: ${Object.entries(r.lifecycle)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; partner status changes ${r.statusChanges}`,
    `  webhooks: ${d.events} events, ${d.attempts} delivery attempts, ${d.acknowledged} acknowledged; chaos: ${d.dropped} dropped first attempts, ${d.duplicatesSent} extra copies, ${d.delayed} delayed, ${d.reordered} reordered; ${d.refused} refused`,
    `  silent partner changes (drift left for reconciliation): ${r.silent.transactions} transactions, ${r.silent.statusChanges} card statuses`,
    `  check: ${r.check.transactionsCompared} transactions and ${r.check.cardsCompared} cards compared, ${r.check.mismatches.length} differences; delivery outcomes ${Object.entries(
      r.check.outcomes,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (settled ${r.check.settledAfterMs} ms after the last delivery)`,
    ...r.check.mismatches
      .slice(0, 20)
      .map(
        (m) =>
          `    ${m.cardId} ${m.transactionId ?? ''} ${m.field}: platform ${JSON.stringify(m.platform)}, partner ${JSON.stringify(m.partner)}`,
      ),
  ];
  return lines.join('\n');
}
