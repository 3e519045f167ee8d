import type { Knex } from 'knex';
import { recordDecision } from '../admin-actions/decisions';
import { recordAction } from '../admin-actions/requests';
import { Discrepancy } from '../db/models';
import { DomainError } from '../domain/errors';
import { newId } from '../lib/ids';

/**
 * An operator's resolution of an open discrepancy, under audit (an admin action and its applied
 * decision). The discrepancy's row is locked first: healing by reconciliation at the same moment
 * either comes first (and the operator is told it is resolved) or waits and finds it resolved.
 */
export async function resolveDiscrepancy(
  knex: Knex,
  input: { tenantId: string; id: string; resolution: string; note: string; by: string },
): Promise<{ discrepancy: Discrepancy; actionId: string }> {
  const { tenantId, id } = input;
  return knex.transaction(async (trx) => {
    const d = await Discrepancy.query(trx).where({ tenantId, id }).forUpdate().first();
    if (!d) throw new DomainError('NOT_FOUND', 'discrepancy not found');
    if (d.status !== 'open')
      throw new DomainError(
        'DISCREPANCY_ALREADY_RESOLVED',
        `the discrepancy was already resolved (${d.resolution})`,
        {
          resolution: d.resolution,
          resolvedBy: d.resolvedBy,
        },
      );
    const actionId = newId('adminAction');
    await recordAction(trx, {
      id: actionId,
      tenantId,
      subjectType: 'discrepancy',
      subjectId: id,
      type: 'resolve_discrepancy',
      params: { resolution: input.resolution, category: d.category },
      reason: input.note,
      requestedBy: input.by,
      before: { status: d.status },
    });
    const updated = await Discrepancy.query(trx).patchAndFetchById(id, {
      status: 'resolved',
      resolution: input.resolution,
      resolutionNote: input.note,
      resolvedBy: input.by,
      resolvedAt: new Date(),
      updatedAt: new Date(),
    });
    await recordDecision(trx, {
      tenantId,
      actionId,
      decision: 'applied',
      decidedBy: input.by,
      note: input.note,
      after: { status: 'resolved', resolution: input.resolution },
    });
    return { discrepancy: updated, actionId };
  });
}
