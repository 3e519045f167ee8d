import { useState } from 'preact/hooks';
import { CARD_STATUSES, searchCards, type CardStatus } from '../api';
import {
  Badge,
  Empty,
  ErrorBox,
  Loading,
  Mono,
  PageTitle,
  PagedFooter,
  usePaged,
} from '../components/common';
import { when } from '../format';
import { href, rowClick } from '../router';

interface Filters {
  q: string;
  status: CardStatus | '';
  region: string;
}

/** Find a card by id, last four digits, user id or external id, or the partner's card id. */
export function CardsPage() {
  const [filters, setFilters] = useState<Filters>({ q: '', status: '', region: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  const [refused, setRefused] = useState<string | null>(null);
  const result = usePaged(
    (cursor) => searchCards({ ...filters, cursor }),
    [filters.q, filters.status, filters.region],
  );

  const submit = (e: Event) => {
    e.preventDefault();
    const q = draft.q.trim();
    // A card number is never sent anywhere from here, not even as a search term.
    if (q.replace(/[\s-]/g, '').match(/\d{12,}/)) {
      setRefused('Card numbers are not searchable: search by the last four digits.');
      return;
    }
    setRefused(null);
    setFilters({ q, status: draft.status, region: draft.region.trim().toUpperCase() });
  };

  const rows = result.rows;
  return (
    <div class="page">
      <PageTitle sub="Search by card id, last four digits, user id, the user's external id or the partner's card id.">
        Cards
      </PageTitle>
      <form class="toolbar" role="search" onSubmit={submit}>
        <div class="field grow">
          <label for="card-search">Search cards</label>
          <input
            id="card-search"
            name="q"
            type="search"
            placeholder="card_…, 4242, usr_…, external id, partner card id"
            maxLength={200}
            autoComplete="off"
            value={draft.q}
            onInput={(e) => setDraft({ ...draft, q: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="card-status">Status</label>
          <select
            id="card-status"
            name="status"
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value as CardStatus | '' })}
          >
            <option value="">Any status</option>
            {CARD_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="card-region">Region</label>
          <input
            id="card-region"
            name="region"
            placeholder="US or US-CA"
            size={8}
            maxLength={6}
            value={draft.region}
            onInput={(e) => setDraft({ ...draft, region: e.currentTarget.value })}
          />
        </div>
        <button type="submit" class="btn btn-primary">
          Search
        </button>
      </form>
      {refused && (
        <div class="alert alert-error" role="alert">
          {refused}
        </div>
      )}
      <ErrorBox error={result.error} title="The search failed" />
      {result.loading && !result.first ? (
        <Loading what="cards" />
      ) : rows.length === 0 ? (
        !result.error && <Empty>No card matches{filters.q ? ` “${filters.q}”` : ''}.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="table table-hover">
            <caption class="sr-only">Cards found</caption>
            <thead>
              <tr>
                <th scope="col">Card</th>
                <th scope="col">Status</th>
                <th scope="col">User</th>
                <th scope="col">Region</th>
                <th scope="col">Partner card</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id} class="clickable" onClick={rowClick(href.card(c.id))}>
                  <td>
                    <a href={href.card(c.id)} class="card-link">
                      <span class="pan">•••• {c.last4 ?? '····'}</span>
                      <Mono>{c.id}</Mono>
                    </a>
                  </td>
                  <td>
                    <Badge value={c.status} />
                  </td>
                  <td>
                    {c.user ? (
                      <>
                        <div>{c.user.name}</div>
                        <div class="muted small">{c.user.externalId}</div>
                      </>
                    ) : (
                      <Mono>{c.userId}</Mono>
                    )}
                  </td>
                  <td>{c.region ?? '—'}</td>
                  <td>
                    <Mono>{c.partnerCardId ?? '—'}</Mono>
                  </td>
                  <td>{when(c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PagedFooter paged={result} />
    </div>
  );
}
