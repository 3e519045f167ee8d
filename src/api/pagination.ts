import type { Model, QueryBuilder } from 'objection';
import { DomainError } from '../domain/errors';
import { decodeCursor, encodeCursor } from './schemas';

/**
 * Newest-first keyset pagination on (created_at, id): one page of rows and the cursor of the next.
 * Timestamps that order lists are stored to the millisecond, as cursors carry them.
 */
export async function newestFirst<M extends Model & { createdAt: Date; id: string }>(
  query: QueryBuilder<M, M[]>,
  page: { limit: number; cursor?: string },
): Promise<{ rows: M[]; nextCursor: string | null }> {
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    if (!after)
      throw new DomainError('VALIDATION_FAILED', 'invalid cursor', {
        fields: [{ path: 'cursor', message: 'invalid' }],
      });
    query.whereRaw('(created_at, id) < (?, ?)', [after.createdAt, after.id]);
  }
  const rows = await query
    .orderBy([
      { column: 'createdAt', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(page.limit + 1);
  const kept = rows.slice(0, page.limit);
  const last = kept[kept.length - 1];
  return {
    rows: kept,
    nextCursor: rows.length > page.limit && last ? encodeCursor(new Date(last.createdAt), last.id) : null,
  };
}
