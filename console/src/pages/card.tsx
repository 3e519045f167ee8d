import { useId, useState } from 'preact/hooks';
import {
  actOnCard,
  getAuthorizationStats,
  getCard,
  getTimeline,
  getUser,
  SPENDING_INTERVALS,
  type AdminAction,
  type AdminCard,
  type SpendingInterval,
  type SpendingLimit,
  type TimelineItem,
} from '../api';
import { AuthorizationsPanel, UsageBar } from '../components/charts';
import {
  Badge,
  Empty,
  ErrorBox,
  Facts,
  Loading,
  Mono,
  PageTitle,
  Panel,
  useAsync,
  usePaged,
} from '../components/common';
import { ConfirmDialog, Field, ReasonField } from '../components/dialog';
import { INTERVAL_LABEL, label, money, moneyInput, parseMoney, when } from '../format';
import { href } from '../router';
import { Timeline, Transactions } from './card-history';

type ActionKind = 'freeze' | 'unfreeze' | 'cancel' | 'set_spending_limits';

const ACTION_TITLE: Record<ActionKind, string> = {
  freeze: 'Freeze',
  unfreeze: 'Unfreeze',
  cancel: 'Cancel',
  set_spending_limits: 'Change limits',
};

const DIALOG_TITLE: Record<ActionKind, string> = {
  freeze: 'Freeze card',
  unfreeze: 'Unfreeze card',
  cancel: 'Cancel card',
  set_spending_limits: 'Change the limits of card',
};

/** Which actions make sense in a status (the API decides; this only avoids offering the impossible). */
function allowed(kind: ActionKind, card: AdminCard): string | null {
  if (card.status === 'canceled' || card.status === 'expired') return `the card is ${card.status}`;
  if (kind === 'freeze' && card.status !== 'active') return 'only an active card can be frozen';
  if (kind === 'unfreeze' && card.status !== 'frozen') return 'the card is not frozen';
  return null;
}

export function CardPage({ id }: { id: string }) {
  const card = useAsync(() => getCard(id), [id]);
  const [dialog, setDialog] = useState<ActionKind | null>(null);
  const [answer, setAnswer] = useState<{ kind: ActionKind; action: AdminAction } | null>(null);
  const [refresh, setRefresh] = useState(0);
  const tl = usePaged((cursor) => getTimeline(id, cursor), [id, refresh]);

  if (card.error && !card.data)
    return (
      <div class="page">
        <PageTitle>Card</PageTitle>
        <ErrorBox error={card.error} title="The card could not be loaded" />
        <a href={href.cards()}>Back to the search</a>
      </div>
    );
  if (!card.data) return <Loading what="the card" />;
  const c = card.data;

  const done = (kind: ActionKind, action: AdminAction) => {
    setAnswer({ kind, action });
    void card.reload();
    setRefresh((n) => n + 1);
  };

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.cards()}>Cards</a> <span aria-hidden="true">/</span> <span>{c.id}</span>
      </nav>
      <PageTitle
        sub={
          <>
            <Badge value={c.status} /> <StatusLine card={c} timeline={tl.first?.data} />
          </>
        }
      >
        Card <span class="pan">•••• {c.last4 ?? '····'}</span>
      </PageTitle>

      <div class="action-bar" role="group" aria-label="Card actions">
        {(Object.keys(ACTION_TITLE) as ActionKind[]).map((k) => {
          const why = allowed(k, c);
          return (
            <button
              key={k}
              type="button"
              class={`btn ${k === 'cancel' ? 'btn-danger-outline' : ''}`}
              disabled={why !== null}
              title={why ?? undefined}
              onClick={() => setDialog(k)}
            >
              {ACTION_TITLE[k]}
            </button>
          );
        })}
        {c.temporalUiUrl && (
          <a class="btn btn-link" href={c.temporalUiUrl} target="_blank" rel="noopener noreferrer">
            Open in Temporal UI
          </a>
        )}
      </div>
      {answer && <ActionAnswer kind={answer.kind} action={answer.action} onDismiss={() => setAnswer(null)} />}
      {card.error && <ErrorBox error={card.error} title="The card could not be refreshed" />}

      {dialog && (
        <ActionDialog
          card={c}
          kind={dialog}
          onClose={() => setDialog(null)}
          onDone={(a) => done(dialog, a)}
        />
      )}

      <div class="grid-2">
        <Panel title="Card" id="card-facts">
          <Facts
            items={[
              ['Card id', <Mono>{c.id}</Mono>],
              ['User', <UserLink userId={c.userId} />],
              ['Partner', c.partner],
              ['Partner card id', <Mono>{c.partnerCardId ?? '—'}</Mono>],
              ['Region', c.region],
              ['Currency', c.currency],
              ['Expires', when(c.expiresAt)],
              ['Issued', `${when(c.createdAt)} by ${c.issuedBy.type}`],
              ['Policy version', c.policyVersion],
              ['Workflow', <Mono>{c.workflowId}</Mono>],
            ]}
          />
          {c.pendingOverrides.length > 0 && (
            <p class="muted small">
              Timed overrides in force:{' '}
              {c.pendingOverrides
                .map((o) => `${label(o.type)} until ${when(new Date(o.revertAtMs).toISOString())}`)
                .join(', ')}
            </p>
          )}
        </Panel>
        <Balances card={c} />
      </div>

      <CardChart cardId={c.id} refresh={refresh} />
      <Transactions cardId={c.id} currency={c.currency} refresh={refresh} />
      <Timeline currency={c.currency} tl={tl} />
    </div>
  );
}

/** Who froze it and why, from the card's last transition. */
function StatusLine({ card, timeline }: { card: AdminCard; timeline: TimelineItem[] | undefined }) {
  const last = [...(timeline ?? [])]
    .reverse()
    .find((i): i is Extract<TimelineItem, { type: 'state_transition' }> => i.type === 'state_transition');
  if (card.status === 'frozen')
    return (
      <span>
        frozen by <strong>{card.frozenBy ?? last?.actor.type}</strong>
        {last?.actor.id ? (
          <>
            {' '}
            (<Mono>{last.actor.id}</Mono>)
          </>
        ) : null}
        {last?.reason ? <> — “{last.reason}”</> : null} since {when(card.statusChangedAt)}
      </span>
    );
  return <span class="muted">since {when(card.statusChangedAt)}</span>;
}

function UserLink({ userId }: { userId: string }) {
  const user = useAsync(() => getUser(userId), [userId]);
  if (!user.data) return <Mono>{userId}</Mono>;
  return (
    <span>
      {user.data.name} <span class="muted">({user.data.externalId})</span>
      {user.data.status !== 'active' && <Badge value={user.data.status} tone="bad" />}
      <br />
      <Mono>{userId}</Mono>
    </span>
  );
}

function ActionAnswer({
  kind,
  action,
  onDismiss,
}: {
  kind: ActionKind;
  action: AdminAction;
  onDismiss: () => void;
}) {
  const pending = action.status === 'pending_approval';
  return (
    <div class={`alert ${pending ? 'alert-warn' : 'alert-ok'}`} role="status">
      <div class="alert-row">
        <div>
          <strong>
            {ACTION_TITLE[kind]}: {pending ? 'pending approval' : label(action.status)}
          </strong>{' '}
          <Mono>{action.id}</Mono>
          {pending && (
            <>
              <p>An approver other than you must approve it on the Approvals page. Why it needs approval:</p>
              <ul>
                {(action.approvalReasons ?? []).map((r) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
            </>
          )}
        </div>
        <button type="button" class="btn btn-ghost" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

function ActionDialog({
  card,
  kind,
  onClose,
  onDone,
}: {
  card: AdminCard;
  kind: ActionKind;
  onClose: () => void;
  onDone: (a: AdminAction) => void;
}) {
  const limitsId = useId();
  const current = new Map(card.controls.spendingLimits.map((l) => [l.interval, l.amount]));
  const onConfirm = async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const reason = String(f.get('reason') ?? '').trim();
    let action: AdminAction;
    if (kind === 'set_spending_limits') {
      const limits: SpendingLimit[] = [];
      for (const interval of SPENDING_INTERVALS) {
        const raw = String(f.get(`limit-${interval}`) ?? '').trim();
        if (!raw) continue;
        const amount = parseMoney(raw, card.currency);
        if (amount === null || amount <= 0)
          throw new Error(`${INTERVAL_LABEL[interval]}: “${raw}” is not an amount in ${card.currency}`);
        limits.push({ amount, interval });
      }
      action = await actOnCard(card.id, {
        type: 'set_spending_limits',
        params: { spendingLimits: limits },
        reason,
      });
    } else action = await actOnCard(card.id, { type: kind, reason });
    onDone(action);
  };
  return (
    <ConfirmDialog
      title={`${DIALOG_TITLE[kind]} •••• ${card.last4 ?? ''}`}
      danger={kind === 'cancel'}
      description={
        kind === 'cancel'
          ? 'Canceling is final: the card can never be used again.'
          : kind === 'set_spending_limits'
            ? `Amounts in ${card.currency}; leave a window empty for no limit there. A limit above the program's approval threshold waits for an approver.`
            : `The card will be ${kind === 'freeze' ? 'frozen: authorizations are declined until it is unfrozen' : 'active again'}.`
      }
      onConfirm={onConfirm}
      onClose={onClose}
    >
      {kind === 'set_spending_limits' && (
        <fieldset class="limits" aria-describedby={limitsId}>
          <legend id={limitsId}>Spending limits ({card.currency})</legend>
          {SPENDING_INTERVALS.map((interval: SpendingInterval) => {
            const fid = `limit-${interval}`;
            const amount = current.get(interval);
            return (
              <Field key={interval} label={`${INTERVAL_LABEL[interval]} limit`} id={fid}>
                <input
                  id={fid}
                  name={fid}
                  inputMode="decimal"
                  autoComplete="off"
                  pattern="[0-9,]*(\.[0-9]*)?"
                  defaultValue={amount !== undefined ? moneyInput(amount, card.currency) : ''}
                />
              </Field>
            );
          })}
        </fieldset>
      )}
      <ReasonField />
    </ConfirmDialog>
  );
}

function Balances({ card }: { card: AdminCard }) {
  const b = card.balances;
  const windows = card.controls.spendingLimits
    .slice()
    .sort((x, y) => SPENDING_INTERVALS.indexOf(x.interval) - SPENDING_INTERVALS.indexOf(y.interval));
  return (
    <Panel title="Balances" id="balances">
      <div class="totals">
        <div>
          <span class="muted small">Held</span>
          <strong>{money(b.held, card.currency)}</strong>
        </div>
        <div>
          <span class="muted small">Captured</span>
          <strong>{money(b.captured, card.currency)}</strong>
        </div>
        <div>
          <span class="muted small">Refunded</span>
          <strong>{money(b.refunded, card.currency)}</strong>
        </div>
      </div>
      {windows.length === 0 ? (
        <Empty>No spending limits.</Empty>
      ) : (
        <table class="table table-compact">
          <caption class="sr-only">Spending windows</caption>
          <thead>
            <tr>
              <th scope="col">Window</th>
              <th scope="col" class="num">
                Limit
              </th>
              <th scope="col" class="num">
                Used
              </th>
              <th scope="col" class="num">
                Available
              </th>
              <th scope="col">
                <span class="sr-only">Used of limit</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {windows.map((w) => {
              const available = b.available[w.interval] ?? w.amount;
              const used = w.interval === 'per_authorization' ? 0 : Math.max(0, w.amount - available);
              return (
                <tr key={w.interval}>
                  <th scope="row">{INTERVAL_LABEL[w.interval] ?? w.interval}</th>
                  <td class="num">{money(w.amount, card.currency)}</td>
                  <td class="num">{w.interval === 'per_authorization' ? '—' : money(used, card.currency)}</td>
                  <td class="num">{money(available, card.currency)}</td>
                  <td class="bar-cell">
                    {w.interval !== 'per_authorization' && (
                      <UsageBar
                        used={used}
                        limit={w.amount}
                        name={INTERVAL_LABEL[w.interval] ?? w.interval}
                      />
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

function CardChart({ cardId, refresh }: { cardId: string; refresh: number }) {
  const stats = useAsync(() => getAuthorizationStats({ cardId, hours: 24 }), [cardId, refresh]);
  return <AuthorizationsPanel stats={stats} caption="Per hour, last 24 hours" id="authorizations" />;
}
