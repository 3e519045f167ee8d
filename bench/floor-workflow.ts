/** The floor of bench:auth: a workflow that answers an update and does nothing else. */
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

export const echoUpdate = defineUpdate<number, [number]>('echo');

export async function floorWorkflow(): Promise<void> {
  setHandler(echoUpdate, (n: number) => n);
  await condition(() => false);
}
