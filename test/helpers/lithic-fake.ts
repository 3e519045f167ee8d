/**
 * A fake of Lithic's cards API for tests (Lithic publishes no mock): a small real HTTP server on
 * loopback, answering in the shapes of the `lithic` SDK's types, that the SDK talks to through
 * `baseURL`. It keeps state, so unlike stripe-mock it can be read back:
 *
 * - `POST /v1/cards` honours `Idempotency-Key` (the same key answers the first card again; with
 *   another body it is refused 409, as idempotent APIs do), and returns `pan`/`cvv` only when the
 *   fake plays a PCI-cleared program;
 * - `GET /v1/cards/:token`, `PATCH /v1/cards/:token` (`state`; CLOSED is final);
 * - `GET /v1/cards` and `GET /v1/transactions?begin&end`, paged with `page_size` and
 *   `starting_after`, `{data, has_more}`.
 *
 * Every request is recorded (method, path, query, Idempotency-Key, JSON body).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type Lithic from 'lithic';

export interface LithicCall {
  method: string;
  path: string;
  query: Record<string, string>;
  idempotencyKey: string | null;
  body: Record<string, unknown> | null;
  status: number;
}

export interface LithicFake {
  url: string;
  apiKey: string;
  calls: LithicCall[];
  cards: Map<string, Lithic.Card>;
  /** A transaction the fake's listing reports (as Lithic would after its events). */
  addTransaction(tx: Lithic.Transaction): void;
  close(): Promise<void>;
}

const luhn = (payload: string): string => {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return payload + String((10 - (sum % 10)) % 10);
};

export async function startLithicFake(opts: { pci?: boolean; apiKey?: string } = {}): Promise<LithicFake> {
  const apiKey = opts.apiKey ?? `lithic-test-${crypto.randomBytes(6).toString('hex')}`;
  const calls: LithicCall[] = [];
  const cards = new Map<string, Lithic.Card>();
  const order: string[] = [];
  const transactions: Lithic.Transaction[] = [];
  const byKey = new Map<string, { body: string; token: string }>();

  const page = <T extends { token: string }>(items: T[], query: URLSearchParams) => {
    const size = Math.max(1, Math.min(Number(query.get('page_size') ?? 50) || 50, 100));
    const after = query.get('starting_after');
    const start = after ? items.findIndex((i) => i.token === after) + 1 : 0;
    const data = items.slice(start, start + size);
    return { data, has_more: start + size < items.length };
  };
  const publicCard = (c: Lithic.Card): Lithic.NonPCICard => {
    const { pan: _pan, cvv: _cvv, ...rest } = c;
    return rest;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | null;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {
        body = null;
      }
      const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
      const call: LithicCall = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        idempotencyKey: key,
        body,
        status: 0,
      };
      calls.push(call);
      const send = (status: number, payload: unknown) => {
        call.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== apiKey) return send(401, { message: 'invalid API key' });

      const cardMatch = /^\/v1\/cards\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'POST' && url.pathname === '/v1/cards') {
        if (key && byKey.has(key)) {
          const first = byKey.get(key)!;
          if (first.body !== text)
            return send(409, { message: 'Idempotency-Key reused with another request' });
          return send(200, cards.get(first.token));
        }
        if (!body || typeof body.type !== 'string') return send(400, { message: 'type is required' });
        const token = crypto.randomUUID();
        const pan = luhn(`4111110${String(cards.size + 1).padStart(8, '0')}`);
        const card: Lithic.Card = {
          token,
          account_token: 'bd5e5649-1be8-4117-9bc5-3268258d1417',
          card_program_token: '5e9483eb-8103-4e16-9794-2106111b2eca',
          created: new Date().toISOString(),
          funding: null,
          last_four: pan.slice(-4),
          pin_status: 'NOT_SET',
          spend_limit: typeof body.spend_limit === 'number' ? body.spend_limit : 0,
          spend_limit_duration: 'FOREVER',
          state: body.state === 'PAUSED' ? 'PAUSED' : 'OPEN',
          type: body.type as Lithic.Card['type'],
          memo: typeof body.memo === 'string' ? body.memo : '',
          exp_month: '11',
          exp_year: String(new Date().getUTCFullYear() + 3),
          ...(opts.pci ? { pan, cvv: '123' } : {}),
        };
        cards.set(token, card);
        order.push(token);
        if (key) byKey.set(key, { body: text, token });
        return send(200, card);
      }
      if (cardMatch && req.method === 'GET') {
        const card = cards.get(cardMatch[1]!);
        return card
          ? send(200, opts.pci ? card : publicCard(card))
          : send(404, { message: 'card not found' });
      }
      if (cardMatch && req.method === 'PATCH') {
        const card = cards.get(cardMatch[1]!);
        if (!card) return send(404, { message: 'card not found' });
        const state = body?.state;
        if (state !== undefined && state !== 'OPEN' && state !== 'PAUSED' && state !== 'CLOSED')
          return send(400, { message: 'state must be OPEN, PAUSED or CLOSED' });
        if (card.state === 'CLOSED' && state !== undefined && state !== 'CLOSED')
          return send(400, { message: 'a closed card cannot be reopened' });
        if (state) card.state = state;
        return send(200, publicCard(card));
      }
      if (req.method === 'GET' && url.pathname === '/v1/cards')
        return send(
          200,
          page(
            order.map((t) => publicCard(cards.get(t)!)),
            url.searchParams,
          ),
        );
      if (req.method === 'GET' && url.pathname === '/v1/transactions') {
        const begin = Date.parse(url.searchParams.get('begin') ?? '') || -Infinity;
        const end = Date.parse(url.searchParams.get('end') ?? '') || Infinity;
        const within = transactions.filter(
          (t) => Date.parse(t.created) >= begin && Date.parse(t.created) < end,
        );
        return send(200, page(within, url.searchParams));
      }
      return send(404, { message: `no route ${req.method} ${url.pathname}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    calls,
    cards,
    addTransaction: (tx) => {
      transactions.push(tx);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
