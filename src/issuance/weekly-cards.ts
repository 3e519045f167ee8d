import type { Knex } from 'knex';
import { windowStart } from '../domain/time-windows';
import type { ProgramPolicy } from '../domain/policy';

/**
 * Cards issued to a user in the program's week containing `atMs` (its time zone and first day):
 * what the weekly card cap counts. A card canceled before the partner ever created it (a failed
 * issuance) was never issued and does not count.
 */
export async function cardsIssuedThisWeek(
  db: Knex | Knex.Transaction,
  input: {
    tenantId: string;
    userId: string;
    atMs: number;
    policy: Pick<ProgramPolicy, 'timeZone' | 'weekStartsOn'>;
  },
): Promise<number> {
  const weekStart = windowStart(input.atMs, 'weekly', input.policy.timeZone, input.policy.weekStartsOn)!;
  const [{ count }] = await db('cards')
    .where({ tenantId: input.tenantId, userId: input.userId })
    .where('createdAt', '>=', new Date(weekStart))
    .whereNot((q) => q.where('status', 'canceled').whereNull('partnerCardId'))
    .count<{ count: string }[]>({ count: '*' });
  return Number(count);
}
