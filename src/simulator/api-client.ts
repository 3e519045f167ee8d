/** The simulator's HTTP client for the platform's and the sandbox partner's APIs. */

/** A parsed JSON response: the platform's and the partner's API shapes, as api.md gives them. */
export type Json = ReturnType<typeof JSON.parse>;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small client for the platform's API: retries 5xx and 429, follows cursors. */
export function apiClient(baseUrl: string) {
  const call = async (
    method: string,
    path: string,
    key: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const parsed = text ? JSON.parse(text) : null;
      if (res.ok) return parsed;
      if ((res.status >= 500 || res.status === 429) && attempt < 5) {
        await sleep(300 * 2 ** attempt);
        continue;
      }
      throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
    }
  };
  const pages = async (path: string, key: string): Promise<Json[]> => {
    const out: Json[] = [];
    for (let cursor: string | null = null; ;) {
      const sep = path.includes('?') ? '&' : '?';
      const page = await call(
        'GET',
        `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        key,
      );
      out.push(...page.data);
      cursor = page.nextCursor;
      if (!cursor) return out;
    }
  };

  return { call, pages };
}
