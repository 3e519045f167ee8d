import type { z } from 'zod';
import { DomainError } from '../domain/errors';
import { validationError } from './errors';
import { containsNul } from './middleware/body';
import type { AppContext } from './context';

/** Parses input with a schema; failures become 400 VALIDATION_FAILED with per-field details. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

export const bodyOf = <S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> =>
  parse(schema, (ctx.request as { body?: unknown }).body ?? {}, 'body');

export const queryOf = <S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> => {
  if (containsNul(ctx.query))
    throw new DomainError('VALIDATION_FAILED', 'query strings may not contain NUL characters');
  return parse(schema, ctx.query, 'query');
};

const PUBLIC_ID = /^[a-z]{2,5}_[0-9a-z]{1,64}$/;

/** A path id that cannot name any object is simply not found (and never reaches SQL). */
export function pathId(ctx: AppContext, name = 'id'): string {
  const id = ctx.params[name] ?? '';
  if (!PUBLIC_ID.test(id)) throw new DomainError('NOT_FOUND', 'not found');
  return id;
}
