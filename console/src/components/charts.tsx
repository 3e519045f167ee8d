import type { AuthorizationStats } from '../api';
import { ErrorBox, Loading, Panel, type Async } from './common';
import { hourLabel, label } from '../format';

/**
 * Authorizations per hour, approved and declined stacked, as SVG (sized by attributes, so the
 * page's CSP needs no inline style). The figures are also in a table for screen readers.
 */
export function AuthorizationsChart({ stats, caption }: { stats: AuthorizationStats; caption: string }) {
  const w = 720;
  const h = 180;
  const pad = { l: 34, r: 8, t: 10, b: 24 };
  const n = stats.buckets.length;
  const max = Math.max(1, ...stats.buckets.map((b) => b.approved + b.declined));
  const top = niceCeil(max);
  const bw = (w - pad.l - pad.r) / Math.max(1, n);
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / top);
  const ticks = [0, top / 2, top].filter((v, i, a) => a.indexOf(v) === i && Number.isInteger(v));
  const labelEvery = Math.max(1, Math.ceil(n / 8));
  return (
    <figure class="chart">
      <figcaption>
        {caption}
        <span class="legend">
          <span class="swatch swatch-ok" aria-hidden="true" /> approved {stats.totals.approved}
          <span class="swatch swatch-bad" aria-hidden="true" /> declined {stats.totals.declined}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${w} ${h}`}
        class="chart-svg"
        role="img"
        aria-label={`${caption}: ${stats.totals.approved} approved, ${stats.totals.declined} declined`}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={w - pad.r} y1={y(t)} y2={y(t)} class="grid" />
            <text x={pad.l - 6} y={y(t) + 4} class="tick" text-anchor="end">
              {t}
            </text>
          </g>
        ))}
        {stats.buckets.map((b, i) => {
          const x = pad.l + i * bw + bw * 0.15;
          const bwInner = Math.max(1, bw * 0.7);
          const ya = y(b.approved);
          const yd = y(b.approved + b.declined);
          return (
            <g key={b.hour}>
              <title>{`${hourLabel(b.hour)}: ${b.approved} approved, ${b.declined} declined`}</title>
              {b.approved > 0 && <rect x={x} y={ya} width={bwInner} height={y(0) - ya} class="bar-ok" />}
              {b.declined > 0 && <rect x={x} y={yd} width={bwInner} height={ya - yd} class="bar-bad" />}
              {i % labelEvery === 0 && (
                <text x={x + bwInner / 2} y={h - 6} class="tick" text-anchor="middle">
                  {hourLabel(b.hour)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <table class="sr-only">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Hour</th>
            <th scope="col">Approved</th>
            <th scope="col">Declined</th>
          </tr>
        </thead>
        <tbody>
          {stats.buckets
            .filter((b) => b.approved + b.declined > 0)
            .map((b) => (
              <tr key={b.hour}>
                <th scope="row">{hourLabel(b.hour)}</th>
                <td>{b.approved}</td>
                <td>{b.declined}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </figure>
  );
}

/** Decline reasons as horizontal bars (SVG), with their counts in text. */
export function DeclineReasons({ stats }: { stats: AuthorizationStats }) {
  if (stats.declineReasons.length === 0) return <p class="empty">No declines in this period.</p>;
  const max = Math.max(...stats.declineReasons.map((r) => r.count));
  return (
    <ul class="reasons" aria-label="Decline reasons">
      {stats.declineReasons.map((r) => (
        <li key={r.code}>
          <span class="reason-name" title={r.code}>
            {label(r.code)}
          </span>
          <svg viewBox="0 0 100 8" preserveAspectRatio="none" class="reason-bar" aria-hidden="true">
            <rect x="0" y="0" width="100" height="8" class="track" />
            <rect x="0" y="0" width={Math.max(2, (r.count / max) * 100)} height="8" class="bar-bad" />
          </svg>
          <span class="reason-count">{r.count}</span>
        </li>
      ))}
    </ul>
  );
}

/** Used against limit for one window: an SVG bar and the figures as text. */
export function UsageBar({ used, limit, name }: { used: number; limit: number; name: string }) {
  const share = limit > 0 ? Math.min(1, Math.max(0, used / limit)) : 0;
  const tone = share >= 0.9 ? 'bar-bad' : share >= 0.7 ? 'bar-warn' : 'bar-ok';
  return (
    <svg
      viewBox="0 0 100 6"
      preserveAspectRatio="none"
      class="usage-bar"
      role="meter"
      aria-label={`${name} used`}
      aria-valuemin={0}
      aria-valuemax={limit}
      aria-valuenow={Math.min(used, limit)}
      aria-valuetext={`${Math.round(share * 100)}% used`}
    >
      <rect x="0" y="0" width="100" height="6" rx="3" class="track" />
      {share > 0 && <rect x="0" y="0" width={Math.max(2, share * 100)} height="6" rx="3" class={tone} />}
    </svg>
  );
}

function niceCeil(v: number): number {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return Math.ceil(m * p);
  return Math.ceil(v);
}

/** A panel of authorizations per hour beside their decline reasons. */
export function AuthorizationsPanel({
  stats,
  caption,
  id,
}: {
  stats: Async<AuthorizationStats>;
  caption: string;
  id: string;
}) {
  return (
    <Panel title="Authorizations" id={id}>
      <ErrorBox error={stats.error} />
      {stats.data ? (
        <div class="chart-row">
          <AuthorizationsChart stats={stats.data} caption={caption} />
          <div class="chart-side">
            <h3>Decline reasons</h3>
            <DeclineReasons stats={stats.data} />
          </div>
        </div>
      ) : (
        !stats.error && <Loading what="authorizations" />
      )}
    </Panel>
  );
}
