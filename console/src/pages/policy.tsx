import { useEffect, useId, useRef, useState } from 'preact/hooks';
import {
  getPolicy,
  listPolicyVersions,
  patchPolicy,
  previewPolicy,
  type PolicyChange,
  type PolicyInForce,
  type PolicyPreview,
  type ProgramPolicy,
} from '../api';
import { href } from '../router';
import {
  ErrorBox,
  Facts,
  Loading,
  Mono,
  PageTitle,
  PagedFooter,
  Panel,
  useAsync,
  usePaged,
} from '../components/common';
import { Field } from '../components/dialog';
import { brief, money, moneyInput, parseMoney, when } from '../format';

/** Fields an operator edits here; money in the program's currency, lists comma-separated. */
type Kind = 'money' | 'money?' | 'int' | 'int?' | 'list' | 'choice';
const EDITABLE: Array<{
  field: keyof ProgramPolicy & string;
  label: string;
  kind: Kind;
  choices?: string[];
  hint?: string;
}> = [
  { field: 'maxCardSpendLimit', label: 'Maximum card spend limit', kind: 'money' },
  {
    field: 'overrideApprovalThreshold',
    label: 'Override approval threshold',
    kind: 'money',
    hint: 'Overrides granting more need an approver.',
  },
  {
    field: 'weeklySpendLimitPerUser',
    label: 'Weekly spend limit per user',
    kind: 'money?',
    hint: 'Empty: no limit.',
  },
  {
    field: 'weeklyCardLimitPerUser',
    label: 'Cards per user per week',
    kind: 'int?',
    hint: 'Empty: no limit.',
  },
  { field: 'holdExpiryDays', label: 'Hold expiry (days)', kind: 'int' },
  { field: 'authorizationTimeoutMs', label: 'Authorization timeout (ms)', kind: 'int' },
  { field: 'standInDecision', label: 'Stand-in decision', kind: 'choice', choices: ['decline', 'approve'] },
  { field: 'regions', label: 'Regions', kind: 'list', hint: 'ISO codes, comma-separated: US, US-CA' },
  { field: 'blockedMccs', label: 'Blocked MCCs', kind: 'list', hint: 'Four-digit codes, comma-separated.' },
];
const MONEY_FIELDS = new Set(['maxCardSpendLimit', 'overrideApprovalThreshold', 'weeklySpendLimitPerUser']);

function toText(policy: ProgramPolicy, field: string, kind: Kind): string {
  const v = policy[field];
  if (v === null || v === undefined) return '';
  if (kind.startsWith('money')) return moneyInput(Number(v), policy.defaultCurrency);
  if (kind === 'list') return (v as string[]).join(', ');
  return String(v);
}

/** The patch the form's text makes against the policy in force (only what differs). */
function patchOf(
  policy: ProgramPolicy,
  values: Record<string, string>,
): { patch: Partial<ProgramPolicy>; errors: string[] } {
  const patch: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const e of EDITABLE) {
    const raw = (values[e.field] ?? '').trim();
    if (raw === toText(policy, e.field, e.kind)) continue;
    let v: unknown;
    if (e.kind.startsWith('money')) {
      v = raw === '' && e.kind === 'money?' ? null : parseMoney(raw, policy.defaultCurrency);
      if (v === null && !(raw === '' && e.kind === 'money?')) errors.push(`${e.label}: not an amount`);
    } else if (e.kind.startsWith('int')) {
      v = raw === '' && e.kind === 'int?' ? null : /^\d+$/.test(raw) ? Number(raw) : undefined;
      if (v === undefined) errors.push(`${e.label}: not a whole number`);
    } else if (e.kind === 'list') {
      v = raw
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
    } else v = raw;
    if (v !== undefined) patch[e.field] = v;
  }
  return { patch: patch as Partial<ProgramPolicy>, errors };
}

function show(field: string, value: unknown, currency: string): string {
  if (MONEY_FIELDS.has(field) && typeof value === 'number') return money(value, currency);
  if (value === null) return 'none';
  if (Array.isArray(value)) return value.length ? value.map(brief).join(', ') : '(empty)';
  return brief(value);
}

function Changes({ changes, currency }: { changes: PolicyChange[]; currency: string }) {
  if (changes.length === 0) return <span class="muted">no change</span>;
  return (
    <ul class="changes">
      {changes.map((c) => (
        <li key={c.field}>
          <Mono>{c.field}</Mono>: <del>{show(c.field, c.from, currency)}</del> →{' '}
          <ins>{show(c.field, c.to, currency)}</ins>
        </li>
      ))}
    </ul>
  );
}

/** The policy in force, an edit form that says when a change needs an approver, and the history. */
export function PolicyPage() {
  const current = useAsync(() => getPolicy(), []);
  const history = usePaged((cursor) => listPolicyVersions(cursor), [current.data?.version]);
  const [saved, setSaved] = useState<number | null>(null);
  const [pending, setPending] = useState<string | null>(null);

  return (
    <div class="page">
      <PageTitle sub="Every change is a new version; the old ones stay, so any decision can be explained by the version it was made under.">
        Policy
      </PageTitle>
      <ErrorBox error={current.error} />
      {saved !== null && (
        <div class="alert alert-ok" role="status">
          Saved: version {saved} is in force.
        </div>
      )}
      {pending !== null && (
        <div class="alert alert-warn" role="status">
          Sent for approval: action {pending} waits in <a href={href.approvals()}>Approvals</a> for another
          person; the policy in force has not changed.
        </div>
      )}
      {!current.data ? (
        !current.error && <Loading what="the policy" />
      ) : (
        <>
          <div class="grid-2">
            <InForce p={current.data} />
            <EditForm
              key={current.data.version}
              p={current.data}
              onSaved={(v) => {
                setPending(null);
                setSaved(v);
                void current.reload();
              }}
              onPending={(id) => {
                setSaved(null);
                setPending(id);
              }}
            />
          </div>
          <Panel title="History" id="history">
            <ErrorBox error={history.error} />
            {!history.first ? (
              <Loading what="the history" />
            ) : (
              <ol class="versions">
                {history.rows.map((v) => (
                  <li key={v.version} class={v.inForce ? 'in-force' : undefined}>
                    <div class="version-head">
                      <strong>Version {v.version}</strong>
                      {v.inForce && <span class="badge badge-ok">in force</span>}
                      <span class="muted small">
                        {when(v.createdAt)} by <Mono>{v.createdBy}</Mono>
                      </span>
                    </div>
                    {v.reason && <p class="reason">“{v.reason}”</p>}
                    {v.version === 1 ? (
                      <p class="muted small">The program's first policy.</p>
                    ) : (
                      <Changes changes={v.changes} currency={v.policy.defaultCurrency} />
                    )}
                  </li>
                ))}
              </ol>
            )}
            <PagedFooter paged={history} />
          </Panel>
        </>
      )}
    </div>
  );
}

function InForce({ p }: { p: PolicyInForce }) {
  const c = p.policy.defaultCurrency;
  return (
    <Panel title={`Version ${p.version} in force`} id="in-force">
      <p class="muted small">
        Since {when(p.createdAt)} by <Mono>{p.createdBy}</Mono>
        {p.reason && <> — “{p.reason}”</>}
      </p>
      <Facts
        items={[
          ['Time zone', p.policy.timeZone],
          ['Week starts on', p.policy.weekStartsOn],
          ['Currency', c],
          ['Regions', p.policy.regions.join(', ')],
          ['Max card spend limit', money(p.policy.maxCardSpendLimit, c)],
          ['Approval threshold', money(p.policy.overrideApprovalThreshold, c)],
          [
            'Weekly spend per user',
            p.policy.weeklySpendLimitPerUser === null
              ? 'no limit'
              : money(p.policy.weeklySpendLimitPerUser, c),
          ],
          ['Cards per user per week', p.policy.weeklyCardLimitPerUser ?? 'no limit'],
          [
            'Default limits',
            p.policy.defaultSpendingLimits.map((l) => `${l.interval} ${money(l.amount, c)}`).join(', '),
          ],
          ['Blocked MCCs', p.policy.blockedMccs.join(', ') || 'none'],
          ['Authorization timeout', `${p.policy.authorizationTimeoutMs} ms`],
          ['Stand-in decision', p.policy.standInDecision],
          ['Hold expiry', `${p.policy.holdExpiryDays} days`],
        ]}
      />
    </Panel>
  );
}

function EditForm({
  p,
  onSaved,
  onPending,
}: {
  p: PolicyInForce;
  onSaved: (version: number) => void;
  onPending: (actionId: string) => void;
}) {
  const initial = Object.fromEntries(EDITABLE.map((e) => [e.field, toText(p.policy, e.field, e.kind)]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [preview, setPreview] = useState<{ result?: PolicyPreview; error?: unknown }>({});
  const [save, setSave] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const reasonId = useId();
  const { patch, errors } = patchOf(p.policy, values);
  const key = JSON.stringify(patch);
  const seq = useRef(0);

  // Ask the API, as the operator types, what the change is and whether it needs an approver.
  useEffect(() => {
    if (Object.keys(patch).length === 0 || errors.length) {
      setPreview({});
      return;
    }
    const mine = ++seq.current;
    const t = window.setTimeout(() => {
      previewPolicy(patch)
        .then((result) => mine === seq.current && setPreview({ result }))
        .catch((error) => mine === seq.current && setPreview({ error }));
    }, 250);
    return () => window.clearTimeout(t);
  }, [key, errors.length]); // the patch's JSON is its identity

  const submit = async (e: Event) => {
    e.preventDefault();
    const reason = String(new FormData(e.currentTarget as HTMLFormElement).get('reason') ?? '').trim();
    setSave({ busy: true });
    try {
      const saved = await patchPolicy({ ...patch, ...(reason ? { reason } : {}) });
      setSave({ busy: false });
      if ('status' in saved && saved.status === 'pending_approval') onPending(saved.id);
      else onSaved((saved as PolicyInForce).version);
    } catch (error) {
      setSave({ busy: false, error });
    }
  };

  const changed = Object.keys(patch).length > 0;
  const blocked = preview.result ? !preview.result.allowed : false;
  return (
    <Panel title="Change the policy" id="edit">
      <form onSubmit={submit} class="policy-form">
        <div class="form-grid">
          {EDITABLE.map((e) => {
            const id = `policy-${e.field}`;
            return (
              <Field
                key={e.field}
                label={e.kind.startsWith('money') ? `${e.label} (${p.policy.defaultCurrency})` : e.label}
                id={id}
                hint={e.hint}
              >
                {e.kind === 'choice' ? (
                  <select
                    id={id}
                    value={values[e.field]}
                    onChange={(ev) => setValues({ ...values, [e.field]: ev.currentTarget.value })}
                  >
                    {e.choices!.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    id={id}
                    value={values[e.field]}
                    inputMode={e.kind === 'list' ? 'text' : 'decimal'}
                    autoComplete="off"
                    aria-describedby={e.hint ? `${id}-hint` : undefined}
                    onInput={(ev) => setValues({ ...values, [e.field]: ev.currentTarget.value })}
                  />
                )}
              </Field>
            );
          })}
        </div>
        <Field label="Reason for the change" id={reasonId}>
          <input id={reasonId} name="reason" maxLength={1000} autoComplete="off" />
        </Field>
        <div class="preview" aria-live="polite">
          {errors.length > 0 && (
            <div class="alert alert-error" role="alert">
              {errors.join('; ')}
            </div>
          )}
          <ErrorBox error={preview.error} title="The change is not valid" />
          {preview.result && (
            <>
              <h3>This change</h3>
              <Changes changes={preview.result.changes} currency={p.policy.defaultCurrency} />
              {preview.result.needsApprover ? (
                <div class="alert alert-warn" role="status">
                  <strong>Needs another person's approval:</strong> it loosens the program's controls (
                  {preview.result.approvalReasons.join('; ')}). Saving sends it to Approvals with your reason;
                  it applies once someone else approves it.
                </div>
              ) : (
                <p class="small ok-text">No approval needed: your key can save it.</p>
              )}
            </>
          )}
        </div>
        <ErrorBox error={save.error} title="The policy was not saved" />
        <div class="form-buttons">
          <button type="button" class="btn" disabled={!changed} onClick={() => setValues(initial)}>
            Reset
          </button>
          <button
            type="submit"
            class="btn btn-primary"
            disabled={!changed || errors.length > 0 || blocked || save.busy}
          >
            {save.busy ? 'Saving…' : 'Save policy'}
          </button>
        </div>
      </form>
    </Panel>
  );
}
