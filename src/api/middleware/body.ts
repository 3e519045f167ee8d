import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import type Koa from 'koa';
import { DomainError } from '../../domain/errors';
import { containsNul } from '../../lib/nul';
import type { AppState } from '../context';

/**
 * Reads the raw body (kept as bytes for webhook signatures) with a size limit, then parses JSON.
 * Over the limit → 413; a body of another media type → 415; malformed JSON → 400 INVALID_JSON.
 * Webhook routes parse for themselves so that an unparseable delivery can still be stored.
 */
export function bodyReader(limitBytes: number, rawOnlyPrefixes: string[] = []): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(ctx.method)) return next();
    if (rawOnlyPrefixes.some((p) => ctx.path.startsWith(p))) {
      // Webhook deliveries are kept whatever their size: one over the limit keeps its first
      // `limitBytes` bytes, with the length and hash of all that was read (up to a ceiling).
      const r = await readBounded(ctx.req, limitBytes, limitBytes * OVERSIZE_READ_FACTOR);
      ctx.state.rawBody = r.prefix;
      if (r.bytes > limitBytes)
        ctx.state.bodyOverflow = { bytes: r.bytes, sha256: r.sha256, complete: r.complete, limitBytes };
      return next();
    }
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > limitBytes)
      throw new DomainError('PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
    let raw: Buffer;
    try {
      raw = await getRawBody(ctx.req, { limit: limitBytes });
    } catch (err) {
      if ((err as { type?: string }).type === 'entity.too.large') {
        throw new DomainError('PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
      }
      throw new DomainError('VALIDATION_FAILED', 'could not read the request body');
    }
    ctx.state.rawBody = raw;
    const text = raw.toString('utf8').trim();
    if (!text) {
      (ctx.request as { body?: unknown }).body = undefined;
      return next();
    }
    // JSON only under a JSON media type: a body sent as text/plain or a form (what a cross-site
    // form can send without a preflight) is refused before it is parsed.
    if (!ctx.request.is('application/json', 'application/*+json'))
      throw new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'send the request body as JSON with Content-Type: application/json',
        { contentType: ctx.get('content-type').slice(0, 100) || null },
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new DomainError('INVALID_JSON', 'the request body is not valid JSON');
    }
    if (depthOf(parsed) > MAX_JSON_DEPTH) {
      throw new DomainError('VALIDATION_FAILED', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    if (containsNul(parsed))
      throw new DomainError('VALIDATION_FAILED', 'strings may not contain NUL characters');
    (ctx.request as { body?: unknown }).body = parsed;
    return next();
  };
}

/** PostgreSQL text cannot hold U+0000; refuse it at the edge rather than fail deep inside. */
export { containsNul } from '../../lib/nul';

export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a parsed JSON value, computed without recursion (a deep body must not blow the stack). */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v && typeof v === 'object') {
      if (d > max) max = d;
      if (max > MAX_JSON_DEPTH) return max;
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
    }
  }
  return max;
}

/** How far past the limit an oversize webhook delivery is read (for its length and hash) before reading stops. */
export const OVERSIZE_READ_FACTOR = 4;

/**
 * Reads a request body keeping its first `keep` bytes, hashing and counting all of it, and stops
 * reading past `ceiling` bytes (`complete: false`; the connection is closed after the answer).
 */
export function readBounded(
  req: IncomingMessage,
  keep: number,
  ceiling: number,
): Promise<{ prefix: Buffer; bytes: number; sha256: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    const parts: Buffer[] = [];
    let kept = 0;
    let bytes = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const finish = (complete: boolean): void => {
      cleanup();
      resolve({ prefix: Buffer.concat(parts, kept), bytes, sha256: hash.digest('hex'), complete });
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      hash.update(chunk);
      if (kept < keep) {
        const take = chunk.subarray(0, keep - kept);
        parts.push(take);
        kept += take.length;
      }
      if (bytes > ceiling) {
        req.pause();
        finish(false);
      }
    };
    const onEnd = (): void => finish(true);
    const onError = (err: Error): void => {
      cleanup();
      reject(new DomainError('VALIDATION_FAILED', `could not read the request body (${err.message})`));
    };
    const onClose = (): void => {
      if (!req.complete) onError(new Error('the connection closed before the body ended'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}
