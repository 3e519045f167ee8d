import type Koa from 'koa';
import type { Knex } from 'knex';
import { DomainError } from '../../domain/errors';
import { sha256Hex } from '../../lib/ids';
import type { AppState } from '../context';
import { toErrorResponse } from '../errors';
import { apiMetrics, routeLabel } from '../../lib/metrics';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const WAIT_FOR_FIRST_MS = 15_000;
const STALE_AFTER_MS = 5 * 60_000;

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

interface Row {
  method: string;
  path: string;
  requestHash: string;
  status: 'in_progress' | 'completed';
  responseStatus: number | null;
  responseBody: unknown;
  createdAt: Date;
}

/**
 * Idempotency-Key on POST: the same key and body get the first response again; the same key with
 * another body is 409 IDEMPOTENCY_KEY_REUSED. A request arriving while the first with its key is
 * still running waits for it. 2xx and 4xx responses are kept; a 5xx frees the key for a retry.
 */
export function idempotency(
  knex: Knex,
  opts: {
    required?: boolean;
    /** Response fields never stored (secrets shown once); a replay shows them redacted. */ redact?: string[];
  } = {},
): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    const key = ctx.get('idempotency-key');
    if (!key) {
      if (opts.required)
        throw new DomainError('IDEMPOTENCY_KEY_REQUIRED', 'this endpoint needs an Idempotency-Key header');
      return next();
    }
    if (!KEY_PATTERN.test(key))
      throw new DomainError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 printable ASCII characters');
    const scope = ctx.state.auth?.tenantId ?? 'platform';
    const requestHash = sha256Hex(
      `${ctx.method} ${ctx.path}\n${canonical((ctx.request as { body?: unknown }).body)}`,
    );
    ctx.state.requestHash = requestHash;

    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const inserted = await knex('idempotency_keys')
        .insert({
          scope,
          tenantId: ctx.state.auth?.tenantId ?? null,
          key,
          method: ctx.method,
          path: ctx.path,
          requestHash,
        })
        .onConflict(['scope', 'key'])
        .ignore()
        .returning('key');
      if (inserted.length) break;
      const row = await knex('idempotency_keys').where({ scope, key }).first<Row | undefined>();
      if (!row) continue; // freed by a failed first attempt: try to take it
      if (row.requestHash !== requestHash || row.method !== ctx.method || row.path !== ctx.path) {
        throw new DomainError(
          'IDEMPOTENCY_KEY_REUSED',
          'this Idempotency-Key was used with a different request',
        );
      }
      if (row.status === 'completed') {
        ctx.status = row.responseStatus ?? 200;
        ctx.body = row.responseBody;
        ctx.set('Idempotent-Replayed', 'true');
        apiMetrics.idempotencyReplays.inc({ route: routeLabel(ctx.matched, ctx.method) });
        return;
      }
      if (Date.now() - new Date(row.createdAt).getTime() > STALE_AFTER_MS) {
        // The first attempt died mid-way; take over (handlers are idempotent on their own ids). Only one
        // waiter wins the takeover: the update is conditional on the row still being the stale one.
        const taken = await knex('idempotency_keys')
          .where({ scope, key, status: 'in_progress', createdAt: row.createdAt })
          .update({ createdAt: knex.fn.now() })
          .returning('key');
        if (taken.length) break;
        continue;
      }
      if (Date.now() > deadline) {
        throw new DomainError(
          'IDEMPOTENCY_REQUEST_IN_PROGRESS',
          'a request with this Idempotency-Key is still being processed',
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }

    const finish = async (status: number, body: unknown): Promise<void> => {
      if (status >= 500) {
        await knex('idempotency_keys').where({ scope, key, status: 'in_progress' }).delete();
        return;
      }
      let stored = body ?? null;
      if (opts.redact?.length && stored && typeof stored === 'object') {
        const copy = { ...(stored as Record<string, unknown>) };
        for (const f of opts.redact) if (f in copy) copy[f] = '[shown once]';
        stored = copy;
      }
      await knex('idempotency_keys')
        .where({ scope, key, status: 'in_progress' })
        .update({
          status: 'completed',
          responseStatus: status,
          responseBody: JSON.stringify(stored),
          completedAt: knex.fn.now(),
        });
    };
    try {
      await next();
    } catch (err) {
      const { status, body } = toErrorResponse(err);
      await finish(status, body).catch((e) =>
        ctx.state.log.error({ err: e }, 'idempotency bookkeeping failed'),
      );
      throw err;
    }
    await finish(ctx.status, ctx.body);
  };
}
