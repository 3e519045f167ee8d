import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import { projectRoot } from '../../infra/paths';
import type { ApiDeps, AppState } from '../context';
import { consoleApiRouter } from './admin-api';
import { consoleStatsRouter } from './stats-api';

/** Where `npm run console:build` (run by `npm install` and `npm run dev`) writes the console. */
export const consoleDistDir = path.join(projectRoot, 'console', 'dist');

/**
 * The console's page may load only its own bundled scripts and styles, talk only to this origin,
 * and be framed by no one. Nothing inline: the build emits none.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

/**
 * The built files, read once and kept: only these names are ever served, so no request path
 * reaches the file system. Read again when the build is newer (a rebuild while `npm run dev` runs).
 */
function assetStore(dir: string) {
  let loaded: { stamp: number; files: Map<string, Asset> } | null = null;
  const load = (): Map<string, Asset> | null => {
    let stamp: number;
    try {
      stamp = fs.statSync(path.join(dir, 'index.html')).mtimeMs;
    } catch {
      return null;
    }
    if (loaded?.stamp === stamp) return loaded.files;
    const files = new Map<string, Asset>();
    const walk = (sub: string): void => {
      for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
        const rel = sub ? `${sub}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(rel);
        else if (entry.isFile() && TYPES[path.extname(entry.name)]) {
          const body = fs.readFileSync(path.join(dir, rel));
          files.set(rel, {
            body,
            type: TYPES[path.extname(entry.name)]!,
            etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
            // Vite names what it emits under assets/ by content hash.
            immutable: rel.startsWith('assets/'),
          });
        }
      }
    };
    walk('');
    loaded = { stamp, files };
    return files;
  };
  return { get: (name: string) => load()?.get(name) ?? null, built: () => load() !== null };
}

function securityHeaders(ctx: Koa.Context): void {
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
}

/**
 * The operators' console: its static build at `/console` (every page path answers the app's
 * index.html; the page routes itself), and the API reads it needs (`consoleApiRouter`).
 */
export function consoleRouter(deps: ApiDeps, opts: { dir?: string } = {}): Router<AppState> {
  const router = new Router<AppState>();
  const store = assetStore(opts.dir ?? consoleDistDir);

  const serve = (ctx: Koa.ParameterizedContext<AppState>, asset: Asset): void => {
    securityHeaders(ctx);
    ctx.set('ETag', asset.etag);
    ctx.set('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.type = asset.type;
    if (ctx.get('if-none-match') === asset.etag) {
      ctx.status = 304;
      return;
    }
    ctx.body = asset.body;
  };

  const page = (ctx: Koa.ParameterizedContext<AppState>): void => {
    const index = store.get('index.html');
    if (!index) {
      securityHeaders(ctx);
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'The console is not built: run `npm run console:build` (npm install does it).\n';
      return;
    }
    serve(ctx, index);
  };

  router.get('/console', page);
  router.get('/console/{*rest}', (ctx) => {
    // The raw path: only names in the store match, so nothing here is decoded or resolved.
    const rest = ctx.path.slice('/console/'.length);
    const asset = store.get(rest);
    if (asset) return serve(ctx, asset);
    // A missing asset is a 404 (a stale page asking for an old bundle), any other path a page.
    if (rest.startsWith('assets/') || path.extname(rest)) {
      securityHeaders(ctx);
      ctx.status = 404;
      ctx.body = { error: { code: 'ROUTE_NOT_FOUND', message: `no console file ${rest}` } };
      return;
    }
    page(ctx);
  });

  router.use(consoleApiRouter(deps).routes());
  router.use(consoleStatsRouter(deps).routes());
  return router;
}
