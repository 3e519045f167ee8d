import crypto from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { AppState } from '../context';
import { DomainError } from '../../domain/errors';
import { toErrorResponse } from '../errors';

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Every answer's defaults: never sniffed into something executable, never rendered as a page that
 * loads anything or is framed, never stored by a cache (answers carry tenants' data and secrets).
 * A route with other needs (the console's files: their own CSP and caching) sets its own.
 */
export const API_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Writes an object body as JSON text here, inside the error boundary, rather than leaving it to
 * Koa after the middleware: a body that cannot be serialised then becomes a JSON 500 with the
 * error shape, not Koa's plain-text one.
 */
function serializeJson(ctx: Koa.Context): void {
  const body: unknown = ctx.body;
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return;
  const text = JSON.stringify(body);
  // (The type Koa gave the object, or the one a route set — a partner's answer keeps its own.)
  const type = ctx.response.get('Content-Type');
  ctx.body = text;
  ctx.type = type || 'application/json';
}

/** Answers with `Connection: close` and ends the socket once the answer is written. */
export function closeAfterAnswer(ctx: Koa.Context): void {
  ctx.set('Connection', 'close');
  ctx.res.shouldKeepAlive = false;
}

/**
 * Outermost middleware: a request id (the caller's X-Request-Id when sane) in every log line and in
 * the response header, one access-log line per request (after the response), and the one place errors
 * become responses.
 */
export function requestContext(logger: Logger): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming)
      ? incoming
      : `req_${crypto.randomBytes(12).toString('base64url')}`;
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    ctx.set(API_HEADERS);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'ROUTE_NOT_FOUND', message: `no route for ${ctx.method} ${ctx.path}` } };
      } else if (ctx.status === 405) {
        ctx.body = {
          error: { code: 'METHOD_NOT_ALLOWED', message: `${ctx.method} is not allowed on ${ctx.path}` },
        };
      }
      serializeJson(ctx);
    } catch (err) {
      const { status, body, internal } = toErrorResponse(err);
      if (internal) ctx.state.log.error({ err }, 'unhandled error');
      ctx.status = status;
      ctx.body = body;
      // A body refused part-way stays unread on the socket: keeping the connection alive would
      // leave the next request on it (a pooling proxy's other caller) waiting behind it for ever.
      if (status === 413) closeAfterAnswer(ctx);
    } finally {
      // The access-log line is written once the response is on its way (Node's 'finish'; 'close'
      // if the client went first), not in the request's own time: its serialisation and redaction
      // come after the answer, not before it.
      const { method, path } = ctx;
      const keyId = ctx.state.auth?.keyId;
      const log = ctx.state.log;
      let logged = false;
      const accessLog = (): void => {
        if (logged) return;
        logged = true;
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        log.info(
          {
            method,
            path,
            status: ctx.status,
            durationMs: Math.round(durationMs * 10) / 10,
            keyId,
            ...(ctx.res.writableFinished ? {} : { aborted: true }),
          },
          'request',
        );
      };
      ctx.res.once('finish', accessLog);
      ctx.res.once('close', accessLog);
    }
  };
}

/** A NUL in any path segment (PostgreSQL text cannot hold one) is malformed input, whichever route. */
export const refuseNulInPath: Koa.Middleware<AppState> = async (ctx, next) => {
  if (/%00/i.test(ctx.path) || ctx.path.includes('\u0000'))
    throw new DomainError('VALIDATION_FAILED', 'path parameters may not contain NUL characters');
  await next();
};
