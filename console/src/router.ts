import { useEffect, useState } from 'preact/hooks';

/** The console's pages live under /console; the API answers every such path with the page. */
export const BASE = '/console';

export type Route =
  | { page: 'overview' }
  | { page: 'cards' }
  | { page: 'card'; id: string }
  | { page: 'approvals' }
  | { page: 'deliveries'; id?: string }
  | { page: 'reconciliation' }
  | { page: 'policy' }
  | { page: 'not_found'; path: string };

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (!first) return { page: 'overview' };
  if (first === 'cards' && !second) return { page: 'cards' };
  if (first === 'cards' && second && parts.length === 2) return { page: 'card', id: second };
  if (first === 'approvals' && !second) return { page: 'approvals' };
  if (first === 'deliveries') return second ? { page: 'deliveries', id: second } : { page: 'deliveries' };
  if (first === 'reconciliation' && !second) return { page: 'reconciliation' };
  if (first === 'policy' && !second) return { page: 'policy' };
  return { page: 'not_found', path: rest };
}

export const href = {
  overview: () => `${BASE}/`,
  cards: () => `${BASE}/cards`,
  card: (id: string) => `${BASE}/cards/${encodeURIComponent(id)}`,
  approvals: () => `${BASE}/approvals`,
  deliveries: (id?: string) => (id ? `${BASE}/deliveries/${encodeURIComponent(id)}` : `${BASE}/deliveries`),
  reconciliation: () => `${BASE}/reconciliation`,
  policy: () => `${BASE}/policy`,
};

const listeners = new Set<() => void>();

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
}

/** The current route; re-renders on navigate() and on the browser's back and forward. */
export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return parseRoute(path);
}

/**
 * Same-page navigation for links inside the console: a plain click is handled here; a modified
 * click (new tab) or a link elsewhere is left to the browser.
 */
export function interceptLinks(root: HTMLElement): () => void {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
    e.preventDefault();
    navigate(url.pathname);
  };
  root.addEventListener('click', onClick);
  return () => root.removeEventListener('click', onClick);
}

/** A table row that opens `to` when clicked outside its own links (those navigate themselves). */
export function rowClick(to: string): (e: MouseEvent) => void {
  return (e) => {
    if ((e.target as Element | null)?.closest?.('a, button, input, select, textarea, summary')) return;
    if (window.getSelection()?.toString()) return; // selecting text to copy an id is not a click
    navigate(to);
  };
}
