import { useId, useState } from 'preact/hooks';
import { listRuns, PARTNERS, startRun, type ReconciliationRun } from '../api';
import {
  Badge,
  Empty,
  ErrorBox,
  Loading,
  Mono,
  PageTitle,
  Panel,
  useAsync,
  usePoll,
} from '../components/common';

import { ago, label, when } from '../format';
import { Discrepancies } from './discrepancies';

function Progress({ run }: { run: ReconciliationRun }) {
  const p = run.progress;
  if (!p) return <span class="muted">—</span>;
  const total = p.slices.total || 1;
  return (
    <div class="progress">
      <div class="progress-line">
        <Badge
          value={p.phase}
          tone={p.phase === 'failed' ? 'bad' : p.phase === 'completed' ? 'ok' : 'info'}
        />
        <span class="small">
          {p.pagesFetched} pages · slices {p.slices.done}/{p.slices.total} · {p.recordsStaged} records ·{' '}
          {p.cardsStaged} cards
        </span>
      </div>
      <svg
        viewBox="0 0 100 6"
        preserveAspectRatio="none"
        class="usage-bar"
        role="progressbar"
        aria-label={`Run ${run.id} slices done`}
        aria-valuemin={0}
        aria-valuemax={p.slices.total}
        aria-valuenow={p.slices.done}
      >
        <rect x="0" y="0" width="100" height="6" rx="3" class="track" />
        <rect
          x="0"
          y="0"
          width={Math.max(1, (p.slices.done / total) * 100)}
          height="6"
          rx="3"
          class="bar-info"
        />
      </svg>
    </div>
  );
}

function Counts({ counts }: { counts: ReconciliationRun['counts'] }) {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => Number(n) > 0);
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <span class="chips">
      {entries.map(([k, n]) => (
        <span key={k} class="chip chip-warn" title={k}>
          {label(k)} <strong>{n}</strong>
        </span>
      ))}
    </span>
  );
}

export function ReconciliationPage() {
  const runs = useAsync(() => listRuns(), []);
  const [partner, setPartner] = useState<string>(PARTNERS[0]);
  const [start, setStart] = useState<{ busy: boolean; error?: unknown; id?: string }>({ busy: false });
  const running = (runs.data?.data ?? []).some((r) => r.status === 'running');
  // Live progress: the running run's figures come from its workflow while it runs.
  usePoll(() => void runs.reload(), 1000, running);
  // The discrepancies follow the runs: whenever a run starts, finishes or finds more, read them again.
  const runState = (runs.data?.data ?? []).map((r) => `${r.id}:${r.status}:${r.total}`).join(',');
  const partnerId = useId();

  const run = async () => {
    setStart({ busy: true });
    try {
      const r = await startRun(partner);
      setStart({ busy: false, id: r.id });
      await runs.reload();
    } catch (error) {
      setStart({ busy: false, error });
    }
  };

  return (
    <div class="page">
      <PageTitle sub="Compares the platform's books with each partner's, finds drift, heals what is safe, and leaves the rest to you.">
        Reconciliation
      </PageTitle>
      <Panel
        title="Runs"
        id="runs"
        actions={
          <div class="inline-form">
            <label for={partnerId} class="small">
              Partner
            </label>
            <select id={partnerId} value={partner} onChange={(e) => setPartner(e.currentTarget.value)}>
              {PARTNERS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            <button type="button" class="btn btn-primary" onClick={run} disabled={start.busy}>
              {start.busy ? 'Starting…' : 'Run reconciliation'}
            </button>
          </div>
        }
      >
        <ErrorBox error={start.error} title="The run could not start" />
        {start.id && (
          <div class="alert alert-info" role="status">
            Run <Mono>{start.id}</Mono> started.
          </div>
        )}
        <ErrorBox error={runs.error} />
        {runs.loading && !runs.data ? (
          <Loading what="runs" />
        ) : (runs.data?.data ?? []).length === 0 ? (
          <Empty>No run yet.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <caption class="sr-only">Reconciliation runs</caption>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Window</th>
                  <th scope="col">Found</th>
                </tr>
              </thead>
              <tbody>
                {runs.data!.data.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Mono>{r.id}</Mono>
                      <div class="muted small">
                        {r.trigger} · {r.partner} · <span title={when(r.startedAt)}>{ago(r.startedAt)}</span>
                      </div>
                      {r.temporalUiUrl && (
                        <a class="small" href={r.temporalUiUrl} target="_blank" rel="noopener noreferrer">
                          Temporal UI
                        </a>
                      )}
                    </td>
                    <td>
                      <Badge value={r.status} />
                      {r.error && <div class="small decline">{r.error}</div>}
                    </td>
                    <td class="progress-cell">
                      <Progress run={r} />
                    </td>
                    <td class="small">
                      {when(r.window.from)}
                      <br />
                      {when(r.window.to)}
                    </td>
                    <td>
                      <div>
                        <strong>{r.total}</strong> <span class="muted small">discrepancies</span>
                      </div>
                      <Counts counts={r.counts} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <Discrepancies refresh={runState} />
    </div>
  );
}
