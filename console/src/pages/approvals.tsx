import { useId, useState } from 'preact/hooks';
import {
  approveAction,
  listApprovals,
  rejectAction,
  type AdminAction,
  type ApprovalItem,
  type SpendingLimit,
} from '../api';
import { useMe } from '../app';
import { Badge, Empty, ErrorBox, Json, Loading, Mono, PageTitle, useAsync } from '../components/common';
import { ConfirmDialog, Field } from '../components/dialog';
import { ago, INTERVAL_LABEL, label, money, when } from '../format';
import { href } from '../router';

type Item = ApprovalItem;

/** Before and after of a spending-limit change, window by window. */
function LimitsDiff({
  before,
  after,
  currency,
}: {
  before: SpendingLimit[];
  after: SpendingLimit[];
  currency: string;
}) {
  const intervals = [...new Set([...before, ...after].map((l) => l.interval))];
  const of = (ls: SpendingLimit[], i: string) => ls.find((l) => l.interval === i)?.amount;
  return (
    <table class="table table-compact diff">
      <caption class="sr-only">Spending limits before and requested</caption>
      <thead>
        <tr>
          <th scope="col">Window</th>
          <th scope="col" class="num">
            Before
          </th>
          <th scope="col" class="num">
            Requested
          </th>
        </tr>
      </thead>
      <tbody>
        {intervals.map((i) => {
          const b = of(before, i);
          const a = of(after, i);
          return (
            <tr key={i} class={b !== a ? 'changed' : undefined}>
              <th scope="row">{INTERVAL_LABEL[i] ?? i}</th>
              <td class="num">{b === undefined ? 'none' : money(b, currency)}</td>
              <td class="num">{a === undefined ? 'none' : money(a, currency)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function BeforeAfter({ action }: { action: Item }) {
  const before = (action.before ?? {}) as Record<string, unknown>;
  const params = action.params ?? {};
  if (action.type === 'set_spending_limits') {
    const controls = before.controls as { spendingLimits?: SpendingLimit[] } | undefined;
    return (
      <LimitsDiff
        before={controls?.spendingLimits ?? []}
        after={(params.spendingLimits as SpendingLimit[]) ?? []}
        currency={action.card?.currency ?? 'USD'}
      />
    );
  }
  return (
    <div class="grid-2 tight">
      <div>
        <h4>Before</h4>
        <Json value={action.before ?? {}} />
      </div>
      <div>
        <h4>Requested</h4>
        <Json value={params} />
      </div>
    </div>
  );
}

function subjectLink(a: Item) {
  if (a.subject.type === 'card')
    return <a href={href.card(a.subject.id)}>{a.card?.last4 ? `•••• ${a.card.last4}` : a.subject.id}</a>;
  return <Mono>{a.subject.id}</Mono>;
}

/** Pending overrides for an approver other than their requester; maker-checker itself is the API's. */
export function ApprovalsPage() {
  const me = useMe();
  const [view, setView] = useState<'pending' | 'decided'>('pending');
  const list = useAsync(() => listApprovals({ status: view }), [view]);
  const [deciding, setDeciding] = useState<{ action: Item; decision: 'approve' | 'reject' } | null>(null);
  const [answer, setAnswer] = useState<AdminAction | null>(null);
  const noteId = useId();
  const items = list.data?.data ?? [];

  return (
    <div class="page">
      <PageTitle sub="Overrides beyond a program cap or above the approval threshold wait here for a second person.">
        Approvals
      </PageTitle>
      <div class="tabs" role="group" aria-label="Which actions">
        <button
          type="button"
          class={`tab ${view === 'pending' ? 'active' : ''}`}
          aria-pressed={view === 'pending'}
          onClick={() => setView('pending')}
        >
          Pending
        </button>
        <button
          type="button"
          class={`tab ${view === 'decided' ? 'active' : ''}`}
          aria-pressed={view === 'decided'}
          onClick={() => setView('decided')}
        >
          Decided
        </button>
      </div>
      {!me.canApprove && (
        <div class="alert alert-info" role="note">
          Your key is an operator key: you can read the queue, and an approver key decides.
        </div>
      )}
      {answer && (
        <div class={`alert ${answer.status === 'rejected' ? 'alert-warn' : 'alert-ok'}`} role="status">
          <strong>
            {label(answer.type)}{' '}
            {answer.status === 'rejected' ? 'rejected' : `approved: ${label(answer.status)}`}
          </strong>{' '}
          <Mono>{answer.id}</Mono>
        </div>
      )}
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? (
        <Loading what="approvals" />
      ) : items.length === 0 ? (
        <Empty>{view === 'pending' ? 'Nothing waits for approval.' : 'No decided approvals yet.'}</Empty>
      ) : (
        <ul class="cards-list" aria-label={view === 'pending' ? 'Pending approvals' : 'Decided approvals'}>
          {items.map((a) => {
            const mine = a.requestedBy === me.keyId;
            return (
              <li key={a.id} class="item-card">
                <article aria-labelledby={`${a.id}-title`}>
                  <header class="item-head">
                    <h2 id={`${a.id}-title`} class="item-title">
                      {label(a.type)} <span class="muted">on</span> {a.subject.type} {subjectLink(a)}
                    </h2>
                    <Badge value={a.status} />
                  </header>
                  <div class="item-meta">
                    <span>
                      Requested by <Mono>{a.requestedBy}</Mono>
                      {mine && <strong> (you)</strong>}
                    </span>
                    <span title={when(a.createdAt)}>{ago(a.createdAt)}</span>
                    {a.expiresAt && <span>reverts {when(a.expiresAt)}</span>}
                  </div>
                  <p class="reason">
                    <span class="muted">Reason:</span> “{a.reason}”
                  </p>
                  {a.approvalReasons.length > 0 && (
                    <div class="why">
                      <h3>Why approval is needed</h3>
                      <ul>
                        {a.approvalReasons.map((r) => (
                          <li key={r}>{r}</li>
                        ))}
                      </ul>
                    </div>
                  )}
                  <BeforeAfter action={a} />
                  {a.decisions.length > 0 && (
                    <ol class="outcomes">
                      {a.decisions.map((d, i) => (
                        <li key={i}>
                          {when(d.at)} <Badge value={d.decision} /> by <Mono>{d.by}</Mono>
                          {d.note && <> — “{d.note}”</>}
                        </li>
                      ))}
                    </ol>
                  )}
                  {a.status === 'pending_approval' &&
                    (mine ? (
                      <p class="muted own">Your own request: another approver must decide it.</p>
                    ) : me.canApprove ? (
                      <div class="item-actions">
                        <button
                          type="button"
                          class="btn btn-primary"
                          onClick={() => setDeciding({ action: a, decision: 'approve' })}
                        >
                          Approve
                        </button>
                        <button
                          type="button"
                          class="btn btn-danger-outline"
                          onClick={() => setDeciding({ action: a, decision: 'reject' })}
                        >
                          Reject
                        </button>
                      </div>
                    ) : null)}
                </article>
              </li>
            );
          })}
        </ul>
      )}
      {deciding && (
        <ConfirmDialog
          title={`${deciding.decision === 'approve' ? 'Approve' : 'Reject'} ${label(deciding.action.type)}`}
          description={`Requested by ${deciding.action.requestedBy}: “${deciding.action.reason}”`}
          danger={deciding.decision === 'reject'}
          onClose={() => setDeciding(null)}
          onConfirm={async (form) => {
            const note = String(new FormData(form).get('note') ?? '').trim();
            const fn = deciding.decision === 'approve' ? approveAction : rejectAction;
            setAnswer(await fn(deciding.action.id, note));
            await list.reload();
          }}
        >
          <Field label="Note" id={noteId} hint="Recorded with your decision.">
            <textarea
              id={noteId}
              name="note"
              rows={3}
              maxLength={1000}
              required
              aria-describedby={`${noteId}-hint`}
            />
          </Field>
        </ConfirmDialog>
      )}
    </div>
  );
}
