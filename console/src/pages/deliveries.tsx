import { useState } from 'preact/hooks';
import {
  DELIVERY_OUTCOMES,
  getDelivery,
  listDeliveries,
  PARTNERS,
  replayDelivery,
  type DeliveryOutcome,
  type ReplayResult,
} from '../api';
import {
  Badge,
  Empty,
  ErrorBox,
  Facts,
  Json,
  Loading,
  Mono,
  PageTitle,
  Panel,
  PagedFooter,
  useAsync,
  usePaged,
} from '../components/common';
import { when } from '../format';
import { href, rowClick } from '../router';

interface Filters {
  partner: string;
  outcome: DeliveryOutcome | '';
  cardId: string;
}

/** Inbound partner deliveries: filter, open one, read its headers and masked payload, replay it. */
export function DeliveriesPage({ id }: { id?: string }) {
  const [filters, setFilters] = useState<Filters>({ partner: '', outcome: '', cardId: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  const list = usePaged(
    (cursor) => listDeliveries({ ...filters, cursor }),
    [filters.partner, filters.outcome, filters.cardId],
  );
  const rows = list.rows;

  return (
    <div class="page">
      <PageTitle sub="Every webhook a partner sent, stored as received (card numbers masked here), with what became of it.">
        Deliveries
      </PageTitle>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft, cardId: draft.cardId.trim() });
        }}
      >
        <div class="field">
          <label for="dl-partner">Partner</label>
          <select
            id="dl-partner"
            value={draft.partner}
            onChange={(e) => setDraft({ ...draft, partner: e.currentTarget.value })}
          >
            <option value="">Any partner</option>
            {PARTNERS.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="dl-outcome">Outcome</label>
          <select
            id="dl-outcome"
            value={draft.outcome}
            onChange={(e) => setDraft({ ...draft, outcome: e.currentTarget.value as DeliveryOutcome | '' })}
          >
            <option value="">Any outcome</option>
            {DELIVERY_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for="dl-card">Card</label>
          <input
            id="dl-card"
            placeholder="card_…"
            maxLength={100}
            autoComplete="off"
            value={draft.cardId}
            onInput={(e) => setDraft({ ...draft, cardId: e.currentTarget.value })}
          />
        </div>
        <button type="submit" class="btn btn-primary">
          Filter
        </button>
      </form>
      <div class={id ? 'split' : ''}>
        <div>
          <ErrorBox error={list.error} />
          {list.loading && !list.first ? (
            <Loading what="deliveries" />
          ) : rows.length === 0 ? (
            !list.error && <Empty>No delivery matches.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="table table-hover">
                <caption class="sr-only">Deliveries</caption>
                <thead>
                  <tr>
                    <th scope="col">Received</th>
                    <th scope="col">Event</th>
                    <th scope="col">Outcome</th>
                    {!id && <th scope="col">Card</th>}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((d) => (
                    <tr
                      key={d.id}
                      class={`clickable ${d.id === id ? 'selected' : ''}`}
                      onClick={rowClick(href.deliveries(d.id))}
                    >
                      <td>
                        <a href={href.deliveries(d.id)} aria-current={d.id === id ? 'true' : undefined}>
                          {when(d.receivedAt)}
                        </a>
                        <div class="muted small">
                          <Mono>{d.id}</Mono>
                        </div>
                      </td>
                      <td>
                        {d.eventType ?? <span class="muted">—</span>}
                        <div class="muted small">{d.partner}</div>
                      </td>
                      <td>
                        <Badge value={d.outcome ?? 'pending'} />
                        {d.error && <div class="small decline">{d.error}</div>}
                      </td>
                      <td>
                        {d.cardId ? (
                          <a href={href.card(d.cardId)}>{d.cardId}</a>
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
          <PagedFooter paged={list} />
        </div>
        {id && <DeliveryDetail key={id} id={id} onReplayed={() => void list.reload()} />}
      </div>
    </div>
  );
}

function DeliveryDetail({ id, onReplayed }: { id: string; onReplayed: () => void }) {
  const d = useAsync(() => getDelivery(id), [id]);
  const [replay, setReplay] = useState<{ busy: boolean; result?: ReplayResult; error?: unknown }>({
    busy: false,
  });
  const doReplay = async () => {
    setReplay({ busy: true });
    try {
      const before = d.data?.outcomes.length ?? 0;
      const result = await replayDelivery(id);
      setReplay({ busy: false, result });
      // The card applies a replayed event on its own time: follow the outcome history until the
      // replay's outcome lands (or give up after a while; the page can be reloaded).
      for (let i = 0; i < 30; i++) {
        const now = await getDelivery(id);
        if (now.outcomes.length > before || i === 29) break;
        await new Promise((r) => window.setTimeout(r, 500));
      }
      await d.reload();
      onReplayed();
    } catch (error) {
      setReplay({ busy: false, error });
    }
  };
  return (
    <Panel
      title="Delivery"
      id="delivery"
      actions={
        <>
          <button type="button" class="btn btn-primary" onClick={doReplay} disabled={replay.busy || !d.data}>
            {replay.busy ? 'Replaying…' : 'Replay'}
          </button>
          <a class="btn btn-ghost" href={href.deliveries()}>
            Close
          </a>
        </>
      }
    >
      <ErrorBox error={d.error} title="The delivery could not be loaded" />
      <ErrorBox error={replay.error} title="The replay failed" />
      {replay.result && (
        <div class="alert alert-ok" role="status">
          <strong>Replayed</strong> (HTTP {replay.result.status}): the same checks ran again; a card applies
          an event once, so a delivery already applied is marked duplicate.
          <Json value={replay.result.result} />
        </div>
      )}
      {!d.data ? (
        !d.error && <Loading what="the delivery" />
      ) : (
        <>
          <Facts
            items={[
              ['Delivery', <Mono>{d.data.id}</Mono>],
              ['Partner', d.data.partner],
              ['Subscription', <Mono>{d.data.subscriptionId}</Mono>],
              ['Received', when(d.data.receivedAt)],
              ['Outcome', <Badge value={d.data.outcome ?? 'pending'} />],
              [
                'Hand-off',
                d.data.handoff ? `${d.data.handoff.status}, ${d.data.handoff.attempts} attempt(s)` : '—',
              ],
            ]}
          />
          <h3>Outcome history</h3>
          {d.data.outcomes.length === 0 ? (
            <Empty>No outcome yet.</Empty>
          ) : (
            <ol class="outcomes">
              {d.data.outcomes.map((o, i) => (
                <li key={i}>
                  {when(o.at)} <Badge value={o.outcome} /> {o.eventType ?? ''}
                  {o.cardId && (
                    <>
                      {' '}
                      on <a href={href.card(o.cardId)}>{o.cardId}</a>
                    </>
                  )}
                  {o.error && <span class="decline"> {o.error}</span>}
                </li>
              ))}
            </ol>
          )}
          <h3>Headers</h3>
          <table class="table table-compact headers">
            <caption class="sr-only">Request headers</caption>
            <tbody>
              {Object.entries(d.data.headers ?? {}).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">
                    <Mono>{k}</Mono>
                  </th>
                  <td>
                    <Mono>{String(v)}</Mono>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Payload (card numbers masked)</h3>
          <Json value={d.data.payload.json ?? d.data.payload.text} />
        </>
      )}
    </Panel>
  );
}
