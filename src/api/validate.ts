import type { z } from 'zod';
import { validationError } from './errors';
import type { AppContext } from './context';

/** Parses input with a schema; failures become 400 VALIDATION_FAILED with per-field details. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

export const bodyOf = <S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> =>
  parse(schema, (ctx.request as { body?: unknown }).body ?? {}, 'body');

export const queryOf = <S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> =>
  parse(schema, ctx.query, 'query');
