import { proxyActivities, sleep } from '@temporalio/workflow';
import type { UserActivities, RevertUserOverrideInput } from '../activities/user-activities';

const acts = proxyActivities<UserActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds' },
});

export interface UserOverrideExpiryInput extends RevertUserOverrideInput {
  revertAtMs: number;
}

export const userOverrideWorkflowId = (tenantId: string, actionId: string): string =>
  `user-override:${tenantId}:${actionId}`;

/** The timer behind a user-level override's `expiresAt`: sleeps, then restores the user's fields. */
export async function userOverrideExpiryWorkflow(
  input: UserOverrideExpiryInput,
): Promise<'reverted' | 'expired'> {
  await sleep(Math.max(1, input.revertAtMs - Date.now()));
  return acts.revertUserOverride(input);
}
