/**
 * stripe-mock for tests, and a recording proxy in front of it.
 *
 * stripe-mock answers the real API's shapes but keeps no state (partners.md §1): a create returns
 * a new random id each time, lists ignore filters, idempotency keys are not honoured. So tests
 * assert on what the platform SENT (the proxy records every call: method, path, the headers that
 * matter, the form body) and never on data read back from the mock.
 */
import http from 'node:http';
import { resolveStripeMock, startStripeMock, type StripeMockHandle } from '../../src/infra/stripe-mock';

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  idempotencyKey: string | null;
  stripeVersion: string | null;
  /** Whether a Bearer key was sent (the key itself is not recorded). */
  authorized: boolean;
  /** The form body, flat as Stripe encodes it: `metadata[vcn_card_id]`, `expand[0]`. */
  form: Record<string, string>;
  status: number;
}

/**
 * An answer the proxy gives itself instead of forwarding (recorded all the same): a failure to
 * provoke a retry, or a listing stripe-mock cannot give (it ignores filters and keeps no state).
 */
export type Stub = (call: RecordedCall) => { status: number; body: unknown } | null;

export interface RecordingProxy {
  /** What the platform's `apiBaseUrl` names. */
  url: string;
  calls: RecordedCall[];
  /** Calls whose path matches. */
  callsTo(method: string, path: string | RegExp): RecordedCall[];
  /** Answers calls the stub takes (a non-null answer) itself; later stubs are asked first. */
  stub(stub: Stub): void;
  /** Forgets every stub: all calls go to stripe-mock again. */
  unstub(): void;
  clear(): void;
  close(): Promise<void>;
}

const log = {
  info: (o: object, m?: string) => {
    if (m && /build/i.test(m)) console.log(`[stripe-mock] ${m}`, JSON.stringify(o));
  },
  warn: (o: object, m?: string) => console.warn(`[stripe-mock] ${m}`, o),
  error: (o: object, m?: string) => console.error(`[stripe-mock] ${m}`, o),
};

/** Resolves (building it on first use, into the user cache) and starts stripe-mock on loopback. */
export async function startTestStripeMock(): Promise<StripeMockHandle> {
  const { path } = await resolveStripeMock(log);
  return startStripeMock({ binary: path, log });
}

const flat = (params: URLSearchParams): Record<string, string> => Object.fromEntries(params.entries());

/** A loopback HTTP proxy that forwards every request to `target` and records it. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const calls: RecordedCall[] = [];
  const stubs: Stub[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const header = (name: string) => {
        const v = req.headers[name];
        return typeof v === 'string' ? v : null;
      };
      const call: RecordedCall = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: flat(url.searchParams),
        idempotencyKey: header('idempotency-key'),
        stripeVersion: header('stripe-version'),
        authorized: /^Bearer\s+\S+/.test(header('authorization') ?? ''),
        form: /application\/x-www-form-urlencoded/.test(header('content-type') ?? '')
          ? flat(new URLSearchParams(body.toString('utf8')))
          : {},
        status: 0,
      };
      calls.push(call);
      for (const stub of stubs) {
        const answer = stub(call);
        if (!answer) continue;
        call.status = answer.status;
        res.writeHead(answer.status, { 'content-type': 'application/json', 'request-id': 'req_stub' });
        res.end(JSON.stringify(answer.body));
        return;
      }
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) },
        },
        (up) => {
          call.status = up.statusCode ?? 0;
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', (err) => {
        call.status = 502;
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `proxy: ${err.message}` } }));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (method, path) =>
      calls.filter(
        (c) => c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)),
      ),
    stub: (stub) => {
      stubs.unshift(stub);
    },
    unstub: () => {
      stubs.length = 0;
    },
    clear: () => {
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A Stripe list endpoint over `objects`, as the real API pages it: `created[gte]`/`created[lt]`
 * filter, `limit` and `starting_after` page, `has_more` says whether a page follows.
 */
export function stripeListing<T extends { id: string; created: number }>(
  path: string,
  objects: () => T[],
): Stub {
  return (call) => {
    if (call.method !== 'GET' || call.path !== path) return null;
    const q = call.query;
    const gte = q['created[gte]'] === undefined ? -Infinity : Number(q['created[gte]']);
    const lt = q['created[lt]'] === undefined ? Infinity : Number(q['created[lt]']);
    const within = objects().filter((o) => o.created >= gte && o.created < lt);
    const after = q.starting_after;
    const start = after ? within.findIndex((o) => o.id === after) + 1 : 0;
    const limit = Number(q.limit ?? 10);
    return {
      status: 200,
      body: {
        object: 'list',
        url: path,
        has_more: start + limit < within.length,
        data: within.slice(start, start + limit),
      },
    };
  };
}
