import { getAuthorizationStats, getOverview } from '../api';
import { useMe } from '../app';
import { AuthorizationsPanel } from '../components/charts';
import { ErrorBox, Loading, PageTitle, useAsync } from '../components/common';
import { href } from '../router';

function Tile({
  title,
  value,
  to,
  tone,
  note,
}: {
  title: string;
  value: number;
  to?: string;
  tone?: string;
  note?: string;
}) {
  const body = (
    <>
      <span class="tile-title">{title}</span>
      <span class="tile-value">{value}</span>
      {note && <span class="tile-note">{note}</span>}
    </>
  );
  return to ? (
    <a class={`tile ${tone ? `tile-${tone}` : ''}`} href={to}>
      {body}
    </a>
  ) : (
    <div class={`tile ${tone ? `tile-${tone}` : ''}`}>{body}</div>
  );
}

/** The program at a glance: cards, the two queues, deliveries and authorizations of the last day. */
export function OverviewPage() {
  const me = useMe();
  const o = useAsync(() => getOverview(), []);
  const stats = useAsync(() => getAuthorizationStats({ hours: 24 }), []);
  const d = o.data;
  const failedDeliveries = d
    ? (d.deliveriesLastDay.failed ?? 0) +
      (d.deliveriesLastDay.rejected ?? 0) +
      (d.deliveriesLastDay.unparseable ?? 0)
    : 0;
  return (
    <div class="page">
      <PageTitle sub={me.tenant ? `${me.tenant.name} (${me.tenant.slug})` : undefined}>Overview</PageTitle>
      <ErrorBox error={o.error} />
      {d ? (
        <div class="tiles">
          <Tile title="Active cards" value={d.cardsByStatus.active ?? 0} to={href.cards()} />
          <Tile
            title="Frozen cards"
            value={d.cardsByStatus.frozen ?? 0}
            to={href.cards()}
            tone={d.cardsByStatus.frozen ? 'warn' : undefined}
          />
          <Tile
            title="Pending approvals"
            value={d.pendingApprovals}
            to={href.approvals()}
            tone={d.pendingApprovals ? 'warn' : undefined}
          />
          <Tile
            title="Open discrepancies"
            value={d.openDiscrepancies}
            to={href.reconciliation()}
            tone={d.openDiscrepancies ? 'bad' : undefined}
          />
          <Tile
            title="Deliveries, 24 h"
            value={Object.values(d.deliveriesLastDay).reduce((a, b) => a + (b ?? 0), 0)}
            to={href.deliveries()}
            note={failedDeliveries ? `${failedDeliveries} failed or rejected` : 'none failed'}
            tone={failedDeliveries ? 'bad' : undefined}
          />
        </div>
      ) : (
        !o.error && <Loading what="the overview" />
      )}
      <AuthorizationsPanel stats={stats} caption="All cards, per hour, last 24 hours" id="overview-auth" />
    </div>
  );
}
