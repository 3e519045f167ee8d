/** A card page's history: its transactions and its timeline of everything that touched it. */

import { getCardTransactions, type Timeline as TimelinePage, type TimelineItem } from '../api';

import {
  Badge,
  Empty,
  ErrorBox,
  Json,
  Loading,
  Mono,
  Panel,
  PagedFooter,
  useAsync,
  type Paged,
} from '../components/common';

import { label, money, when } from '../format';
import { href } from '../router';

export function Transactions({
  cardId,
  currency,
  refresh,
}: {
  cardId: string;
  currency: string;
  refresh: number;
}) {
  const txs = useAsync(() => getCardTransactions(cardId), [cardId, refresh]);
  const rows = txs.data?.data ?? [];
  return (
    <Panel title="Transactions" id="transactions">
      <ErrorBox error={txs.error} />
      {txs.loading && !txs.data ? (
        <Loading what="transactions" />
      ) : rows.length === 0 ? (
        <Empty>No transactions yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">Transactions of the card</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Merchant</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Authorized
                </th>
                <th scope="col" class="num">
                  Held
                </th>
                <th scope="col" class="num">
                  Captured
                </th>
                <th scope="col" class="num">
                  Refunded
                </th>
                <th scope="col" class="num">
                  Reversed
                </th>
                <th scope="col">Flags</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id}>
                  <td>
                    {when(t.authorizedAt ?? t.createdAt)}
                    <div class="muted small">
                      <Mono>{t.partnerTransactionId}</Mono>
                    </div>
                  </td>
                  <td>
                    {t.merchant?.name ?? '—'}
                    {t.merchant && (
                      <div class="muted small">
                        MCC {t.merchant.mcc ?? '—'} · {t.merchant.region ?? t.merchant.country ?? '—'}
                      </div>
                    )}
                  </td>
                  <td>
                    <Badge value={t.status} />
                    {t.declineCode && <div class="small decline">{t.declineCode}</div>}
                  </td>
                  <td class="num">{money(t.authorizedAmount, t.currency ?? currency)}</td>
                  <td class="num">{money(t.heldAmount, t.currency ?? currency)}</td>
                  <td class="num">{money(t.capturedAmount, t.currency ?? currency)}</td>
                  <td class="num">{money(t.refundedAmount, t.currency ?? currency)}</td>
                  <td class="num">{money(t.reversedAmount, t.currency ?? currency)}</td>
                  <td>
                    {t.flags.length ? (
                      t.flags.map((f) => (
                        <span key={f} class="chip">
                          {f}
                        </span>
                      ))
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

const KIND_LABEL: Record<TimelineItem['type'], string> = {
  webhook: 'Delivery',
  transaction_event: 'Transaction',
  state_transition: 'Status',
  admin_action: 'Admin action',
  discrepancy: 'Discrepancy',
};

function fromReconciliation(i: TimelineItem): boolean {
  return (
    i.type === 'discrepancy' ||
    ((i.type === 'transaction_event' || i.type === 'state_transition') && i.source === 'reconciliation')
  );
}

function summary(i: TimelineItem, currency: string) {
  switch (i.type) {
    case 'webhook': {
      const type = (i.payload.json as { type?: string } | null)?.type;
      return (
        <>
          {type ?? 'delivery'} from {i.partner} <Badge value={i.outcome} />
        </>
      );
    }
    case 'transaction_event':
      return (
        <>
          {label(i.eventType)} {money(i.amount, i.currency ?? currency)}
          {i.decision && (
            <>
              {' '}
              <Badge value={i.decision.approved ? 'approved' : 'declined'} />
              {i.decision.declineCode && <span class="decline small"> {i.decision.declineCode}</span>}
            </>
          )}
        </>
      );
    case 'state_transition':
      return (
        <>
          {i.from ?? 'new'} → <strong>{i.to}</strong> by {i.actor.type}
          {i.reason && <> — “{i.reason}”</>}
        </>
      );
    case 'admin_action':
      return (
        <>
          {label(i.action)} requested by <Mono>{i.requestedBy}</Mono> — “{i.reason}”
          {i.decisions.length > 0 && <> · {i.decisions.map((d) => d.decision).join(', ')}</>}
        </>
      );
    case 'discrepancy':
      return (
        <>
          {label(i.category)} <Badge value={i.status} />
          {i.resolution && <> · {label(i.resolution)}</>}
        </>
      );
  }
}

function details(i: TimelineItem) {
  if (i.type === 'webhook')
    return (
      <>
        <h3 class="label-heading">Payload (card numbers masked)</h3>
        <Json value={i.payload.json ?? i.payload.text} />
        <h3 class="label-heading">Outcomes</h3>
        <ol class="outcomes">
          {i.outcomes.map((o, n) => (
            <li key={n}>
              {when(o.at)} <Badge value={o.outcome} /> {o.eventType}
              {o.error && <span class="decline"> {o.error}</span>}
            </li>
          ))}
        </ol>
        <a href={href.deliveries(i.id)}>Open the delivery</a>
      </>
    );
  const { type: _t, at: _a, ...rest } = i;
  return <Json value={rest} />;
}

export function Timeline({ currency, tl }: { currency: string; tl: Paged<TimelinePage> }) {
  const items = tl.rows;
  return (
    <Panel title="Timeline" id="timeline">
      <ErrorBox error={tl.error} />
      {tl.loading && !tl.first ? (
        <Loading what="the timeline" />
      ) : items.length === 0 ? (
        <Empty>Nothing has happened to this card yet.</Empty>
      ) : (
        <ol class="timeline">
          {items.map((i) => (
            <li key={`${i.type}:${i.id}`} class={`tl tl-${i.type}`}>
              <details>
                <summary>
                  <span class="tl-time">{when(i.at)}</span>
                  <span class={`tl-kind kind-${i.type}`}>{KIND_LABEL[i.type]}</span>
                  {fromReconciliation(i) && <span class="badge badge-recon">reconciliation</span>}
                  <span class="tl-summary">{summary(i, currency)}</span>
                </summary>
                <div class="tl-details">{details(i)}</div>
              </details>
            </li>
          ))}
        </ol>
      )}
      <PagedFooter paged={tl} />
    </Panel>
  );
}
