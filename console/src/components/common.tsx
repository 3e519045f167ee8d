import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, type Page } from '../api';
import { label, pretty } from '../format';

/** Any failure as the operator should read it: the API's code and message, never a blank page. */
export function describeError(err: unknown): { code: string; message: string; status?: number } {
  if (err instanceof ApiFailure) return { code: err.code, message: err.message, status: err.status };
  return { code: 'CONSOLE_ERROR', message: err instanceof Error ? err.message : String(err) };
}

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = describeError(error);
  const fields =
    error instanceof ApiFailure
      ? (error.details?.fields as Array<{ path: string; message: string }>)
      : undefined;
  return (
    <div class="alert alert-error" role="alert">
      <strong>{title ?? 'The API refused this'}</strong>
      <p>
        <code class="error-code">{e.code}</code> {e.message}
        {e.status ? <span class="muted"> (HTTP {e.status})</span> : null}
      </p>
      {Array.isArray(fields) && fields.length > 0 && (
        <ul class="error-fields">
          {fields.map((f) => (
            <li key={f.path}>
              <code>{f.path || '(body)'}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads `fn` now and whenever `deps` change; `reload` loads again keeping what is shown. A load
 * that a newer one overtook is dropped (a fast typist's earlier search never wins).
 */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback(async () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await fn();
      if (mine === seq.current) setState({ data, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    void run();
  }, [run]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

type Row<P> = P extends Page<infer T> ? T : never;

export interface Paged<P extends Page<unknown>> {
  /** The first page as the API answered it (with any fields beside `data`). */
  first: P | undefined;
  /** Every row loaded so far: the first page's, then each further page's. */
  rows: Row<P>[];
  error: unknown;
  loading: boolean;
  hasMore: boolean;
  more: () => Promise<void>;
  moreBusy: boolean;
  moreError: unknown;
  reload: () => Promise<void>;
}

/** A cursor-paged list: the first page on `deps`, further pages on `more()`; a reload starts over. */
export function usePaged<P extends Page<unknown>>(
  fetchPage: (cursor?: string) => Promise<P>,
  deps: unknown[],
): Paged<P> {
  const first = useAsync(() => fetchPage(), deps);
  const [extra, setExtra] = useState<{
    rows: Row<P>[];
    cursor: string | null | undefined;
    busy: boolean;
    error: unknown;
  }>({
    rows: [],
    cursor: undefined,
    busy: false,
    error: null,
  });
  useEffect(() => setExtra({ rows: [], cursor: undefined, busy: false, error: null }), [first.data]);
  const cursor = extra.cursor === undefined ? first.data?.nextCursor : extra.cursor;
  const more = async () => {
    if (!cursor || extra.busy) return;
    setExtra((x) => ({ ...x, busy: true, error: null }));
    try {
      const page = await fetchPage(cursor);
      setExtra((x) => ({
        rows: [...x.rows, ...(page.data as Row<P>[])],
        cursor: page.nextCursor,
        busy: false,
        error: null,
      }));
    } catch (error) {
      setExtra((x) => ({ ...x, busy: false, error }));
    }
  };
  return {
    first: first.data,
    rows: [...((first.data?.data ?? []) as Row<P>[]), ...extra.rows],
    error: first.error,
    loading: first.loading,
    hasMore: Boolean(cursor),
    more,
    moreBusy: extra.busy,
    moreError: extra.error,
    reload: first.reload,
  };
}

/** Under a paged list: its error loading more, and the button that does. */
export function PagedFooter<P extends Page<unknown>>({ paged }: { paged: Paged<P> }) {
  return (
    <>
      <ErrorBox error={paged.moreError} />
      {paged.hasMore && <MoreButton onClick={() => void paged.more()} busy={paged.moreBusy} />}
    </>
  );
}

/** Calls `fn` every `ms` while `active`, and stops when the page goes. */
export function usePoll(fn: () => void, ms: number, active: boolean): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => saved.current(), ms);
    return () => window.clearInterval(id);
  }, [ms, active]);
}

const TONE: Record<string, string> = {
  active: 'ok',
  applied: 'ok',
  approved: 'ok',
  completed: 'ok',
  resolved: 'ok',
  closed: 'neutral',
  duplicate: 'neutral',
  ignored: 'neutral',
  pending: 'info',
  running: 'info',
  pending_approval: 'warn',
  frozen: 'warn',
  open: 'warn',
  parked: 'warn',
  reversed: 'neutral',
  expired: 'neutral',
  canceled: 'bad',
  declined: 'bad',
  rejected: 'bad',
  failed: 'bad',
  unparseable: 'bad',
};

export function Badge({ value, tone }: { value: string | null | undefined; tone?: string }) {
  if (!value) return <span class="muted">—</span>;
  return <span class={`badge badge-${tone ?? TONE[value] ?? 'neutral'}`}>{label(value)}</span>;
}

export function Mono({ children }: { children: ComponentChildren }) {
  return <code class="mono">{children}</code>;
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{pretty(value)}</pre>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function Panel({
  title,
  id,
  actions,
  children,
  level = 2,
}: {
  title: string;
  id?: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
  level?: 2 | 3;
}) {
  const H = level === 2 ? 'h2' : 'h3';
  const headingId = id ? `${id}-heading` : undefined;
  return (
    <section class="panel" aria-labelledby={headingId}>
      <div class="panel-head">
        <H id={headingId}>{title}</H>
        {actions && <div class="panel-actions">{actions}</div>}
      </div>
      <div class="panel-body">{children}</div>
    </section>
  );
}

/** Term/value pairs in a compact grid. */
export function Facts({ items }: { items: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v ?? <span class="muted">—</span>}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The page's heading, focused on arrival so a keyboard or screen-reader user starts there. */
export function PageTitle({ children, sub }: { children: ComponentChildren; sub?: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <header class="page-title">
      <h1 ref={ref} tabIndex={-1}>
        {children}
      </h1>
      {sub && <div class="page-sub">{sub}</div>}
    </header>
  );
}

export function MoreButton({ onClick, busy }: { onClick: () => void; busy?: boolean }) {
  return (
    <div class="more">
      <button type="button" class="btn" onClick={onClick} disabled={busy}>
        {busy ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}

/** The console's mark and name. */
export function Brand({ large }: { large?: boolean }) {
  return (
    <div class={`brand ${large ? 'brand-lg' : ''}`}>
      <svg viewBox="0 0 32 32" aria-hidden="true" class="brand-mark">
        <rect x="2" y="7" width="28" height="18" rx="3" class="brand-card" />
        <rect x="2" y="11" width="28" height="3" class="brand-stripe" />
      </svg>
      <span>VCN Console</span>
    </div>
  );
}
