import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import {
  bearerMatches,
  declineLabel,
  routeLabel,
  statusClass,
  UNMATCHED_ROUTE,
  type MatchedLayer,
} from './metrics';

const layer = (path: string | RegExp, methods: string[]): MatchedLayer => ({ path, methods });

describe('routeLabel', () => {
  it('is the template of the last route matching the method, skipping middleware layers', () => {
    const matched = [
      layer('(.*)', []),
      layer('/v1/cards/:id', ['HEAD', 'GET']),
      layer('/v1/cards/:id', ['PATCH']),
    ];
    expect(routeLabel(matched, 'GET')).toBe('/v1/cards/:id');
    expect(routeLabel(matched, 'patch')).toBe('/v1/cards/:id');
  });

  it('collapses unknown paths (nothing matched, or only middleware) into one label', () => {
    expect(routeLabel(undefined, 'GET')).toBe(UNMATCHED_ROUTE);
    expect(routeLabel([], 'GET')).toBe(UNMATCHED_ROUTE);
    expect(routeLabel([layer('(.*)', [])], 'POST')).toBe(UNMATCHED_ROUTE);
    expect(routeLabel([layer(/^\/raw\/(.*)$/, ['GET'])], 'GET')).toBe(UNMATCHED_ROUTE);
  });

  it('labels a wrong method (405) with the route the path matched', () => {
    expect(routeLabel([layer('/v1/cards', ['POST'])], 'DELETE')).toBe('/v1/cards');
  });

  describe('with real @koa/router routers, nested as in the app', () => {
    let server: http.Server;
    let base: string;
    const seen: string[] = [];
    beforeAll(async () => {
      const app = new Koa();
      app.use(async (ctx, next) => {
        try {
          await next();
        } finally {
          seen.push(routeLabel(ctx.matched, ctx.method));
        }
      });
      const open = new Router();
      open.get('/healthz', (ctx) => {
        ctx.body = 'ok';
      });
      app.use(open.routes());
      const cards = new Router();
      cards.get('/v1/cards/:id', (ctx) => {
        ctx.body = { id: ctx.params.id };
      });
      cards.post('/v1/cards/:id/freeze', (ctx) => {
        ctx.status = 204;
      });
      const authed = new Router();
      authed.use(async (ctx, next) => {
        if (ctx.get('authorization') !== 'ok') {
          ctx.status = 401;
          return;
        }
        await next();
      });
      authed.use(cards.routes());
      app.use(authed.routes());
      app.use(authed.allowedMethods());
      server = http.createServer(app.callback());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const labelOf = async (method: string, path: string, auth = 'ok'): Promise<string> => {
      seen.length = 0;
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: auth } });
      await res.arrayBuffer();
      return seen[0]!;
    };

    it('gives templates, never ids', async () => {
      expect(await labelOf('GET', '/v1/cards/card_abc123')).toBe('/v1/cards/:id');
      expect(await labelOf('POST', '/v1/cards/card_xyz/freeze')).toBe('/v1/cards/:id/freeze');
      expect(await labelOf('GET', '/healthz')).toBe('/healthz');
    });

    it('labels a request refused by the auth middleware with its route', async () => {
      expect(await labelOf('GET', '/v1/cards/card_abc123', 'nope')).toBe('/v1/cards/:id');
    });

    it('collapses unknown paths, whatever they contain', async () => {
      expect(await labelOf('GET', '/v1/nothing/card_abc123')).toBe(UNMATCHED_ROUTE);
      expect(await labelOf('GET', '/4111111111111111')).toBe(UNMATCHED_ROUTE);
    });
  });
});

describe('statusClass and declineLabel', () => {
  it('keeps label sets small', () => {
    expect([200, 204, 401, 404, 503].map(statusClass)).toEqual(['2xx', '2xx', '4xx', '4xx', '5xx']);
    expect(declineLabel('STAND_IN')).toBe('STAND_IN');
    expect(declineLabel('SOMETHING_A_PARTNER_MADE_UP')).toBe('other');
    expect(declineLabel(undefined)).toBe('');
  });
});

describe('bearerMatches', () => {
  const token = 'metrics-token-0123456789';
  it('accepts only the exact bearer token', () => {
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches('', token)).toBe(false);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(`Basic ${token}`, token)).toBe(false);
  });
});
