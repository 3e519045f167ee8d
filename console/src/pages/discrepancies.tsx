/** The discrepancy queue: both sides' figures and evidence, filters, and an operator's resolution. */
import { useId, useState } from 'preact/hooks';
import {
  DISCREPANCY_CATEGORIES,
  listDiscrepancies,
  OPERATOR_RESOLUTIONS,
  resolveDiscrepancy,
  type Discrepancy,
  type DiscrepancyCategory,
  type OperatorResolution,
} from '../api';
import { Badge, Empty, ErrorBox, Json, Loading, Mono, Panel, useAsync } from '../components/common';
import { ConfirmDialog, Field } from '../components/dialog';
import { ago, brief, label, money, when } from '../format';
import { href } from '../router';

const MONEY_KEYS = new Set(['amount', 'authorized', 'held', 'captured', 'refunded', 'reversed']);

function cell(key: string, v: unknown, currency: string): string {
  if (v === undefined) return '—';
  if (typeof v === 'number' && MONEY_KEYS.has(key)) return money(v, currency);
  return brief(v);
}

/**
 * Both sides' figures, field by field, the ones that differ marked; a side with no record at all
 * says so. Values that are not records are shown as they are.
 */
function Sides({ ours, theirs }: { ours: unknown; theirs: unknown }) {
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    !!v && typeof v === 'object' && !Array.isArray(v);
  if ((ours !== null && !isRecord(ours)) || (theirs !== null && !isRecord(theirs)))
    return (
      <div class="sides">
        <div>
          <h4>Our books</h4>
          <Json value={ours ?? null} />
        </div>
        <div>
          <h4>Partner's books</h4>
          <Json value={theirs ?? null} />
        </div>
      </div>
    );
  const a = ours ?? {};
  const b = theirs ?? {};
  const currency = String(a.currency ?? b.currency ?? 'USD');
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return (
    <table class="table table-compact compare">
      <caption class="sr-only">Our books and the partner's, field by field</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Our books</th>
          <th scope="col">Partner's books</th>
        </tr>
      </thead>
      <tbody>
        {ours === null && (
          <tr class="changed">
            <th scope="row">record</th>
            <td>no record</td>
            <td>present</td>
          </tr>
        )}
        {theirs === null && (
          <tr class="changed">
            <th scope="row">record</th>
            <td>present</td>
            <td>no record</td>
          </tr>
        )}
        {keys.map((k) => {
          const differs = ours !== null && theirs !== null && JSON.stringify(a[k]) !== JSON.stringify(b[k]);
          return (
            <tr key={k} class={differs ? 'changed' : undefined}>
              <th scope="row">
                {k}
                {differs && <span class="sr-only"> (differs)</span>}
              </th>
              <td class={MONEY_KEYS.has(k) ? 'num-left' : undefined}>
                {ours === null ? '—' : cell(k, a[k], currency)}
              </td>
              <td class={MONEY_KEYS.has(k) ? 'num-left' : undefined}>
                {theirs === null ? '—' : cell(k, b[k], currency)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Runs with their live progress, a button to start one, and the discrepancies to resolve. */

export function Discrepancies({ refresh }: { refresh: string }) {
  const [filters, setFilters] = useState<{
    category: DiscrepancyCategory | '';
    status: 'open' | 'resolved' | '';
  }>({
    category: '',
    status: 'open',
  });
  const list = useAsync(() => listDiscrepancies(filters), [filters.category, filters.status, refresh]);
  const [resolving, setResolving] = useState<Discrepancy | null>(null);
  const [answer, setAnswer] = useState<(Discrepancy & { actionId: string }) | null>(null);
  const resId = useId();
  const noteId = useId();
  const catId = useId();
  const statusId = useId();
  const items = list.data?.data ?? [];

  return (
    <Panel
      title="Discrepancies"
      id="discrepancies"
      actions={
        <div class="inline-form">
          <label for={catId} class="small">
            Category
          </label>
          <select
            id={catId}
            value={filters.category}
            onChange={(e) =>
              setFilters({ ...filters, category: e.currentTarget.value as DiscrepancyCategory | '' })
            }
          >
            <option value="">Any category</option>
            {DISCREPANCY_CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {label(c)}
              </option>
            ))}
          </select>
          <label for={statusId} class="small">
            Status
          </label>
          <select
            id={statusId}
            value={filters.status}
            onChange={(e) =>
              setFilters({ ...filters, status: e.currentTarget.value as 'open' | 'resolved' | '' })
            }
          >
            <option value="open">Open</option>
            <option value="resolved">Resolved</option>
            <option value="">Any status</option>
          </select>
        </div>
      }
    >
      {answer && (
        <div class="alert alert-ok" role="status">
          <strong>Resolved</strong> <Mono>{answer.id}</Mono> as {label(answer.resolution ?? '')} (audited as{' '}
          <Mono>{answer.actionId}</Mono>).
        </div>
      )}
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? (
        <Loading what="discrepancies" />
      ) : items.length === 0 ? (
        <Empty>No discrepancy matches.</Empty>
      ) : (
        <ul class="cards-list" aria-label="Discrepancies found">
          {items.map((d) => (
            <li key={d.id} class="item-card">
              <article aria-labelledby={`${d.id}-title`}>
                <header class="item-head">
                  <h3 id={`${d.id}-title`} class="item-title">
                    {label(d.category)}
                  </h3>
                  <Badge value={d.status} />
                </header>
                <div class="item-meta">
                  <Mono>{d.id}</Mono>
                  {d.cardId && (
                    <span>
                      card <a href={href.card(d.cardId)}>{d.cardId}</a>
                    </span>
                  )}
                  {d.partnerCardId && (
                    <span>
                      partner card <Mono>{d.partnerCardId}</Mono>
                    </span>
                  )}
                  {d.partnerTransactionId && (
                    <span>
                      partner transaction <Mono>{d.partnerTransactionId}</Mono>
                    </span>
                  )}
                  <span title={when(d.updatedAt)}>seen {ago(d.updatedAt)}</span>
                </div>
                <Sides ours={d.internalValue} theirs={d.partnerValue} />
                <details>
                  <summary>Evidence</summary>
                  <Json value={d.evidence} />
                </details>
                {d.status === 'resolved' ? (
                  <p class="small">
                    Resolved as <strong>{label(d.resolution ?? '')}</strong> by{' '}
                    <Mono>{brief(d.resolvedBy)}</Mono> {when(d.resolvedAt)}
                    {d.resolutionNote && <> — “{d.resolutionNote}”</>}
                  </p>
                ) : (
                  <div class="item-actions">
                    <button type="button" class="btn btn-primary" onClick={() => setResolving(d)}>
                      Resolve
                    </button>
                  </div>
                )}
              </article>
            </li>
          ))}
        </ul>
      )}
      {resolving && (
        <ConfirmDialog
          title={`Resolve ${label(resolving.category)}`}
          description={<Mono>{resolving.id}</Mono>}
          onClose={() => setResolving(null)}
          onConfirm={async (form) => {
            const f = new FormData(form);
            const res = await resolveDiscrepancy(
              resolving.id,
              String(f.get('resolution')) as OperatorResolution,
              String(f.get('note') ?? '').trim(),
            );
            setAnswer(res);
            await list.reload();
          }}
        >
          <Field label="Resolution" id={resId}>
            <select id={resId} name="resolution" required>
              {OPERATOR_RESOLUTIONS.map((r) => (
                <option key={r} value={r}>
                  {label(r)}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Note" id={noteId} hint="What you checked or did; recorded with the resolution.">
            <textarea
              id={noteId}
              name="note"
              rows={3}
              maxLength={2000}
              required
              aria-describedby={`${noteId}-hint`}
            />
          </Field>
        </ConfirmDialog>
      )}
    </Panel>
  );
}
