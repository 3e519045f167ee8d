import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';

export const historiesDir = path.join(__dirname, '..', 'fixtures', 'histories');

/** Every run of a workflow id (continue-as-new makes several), oldest first, with its history. */
export async function runsOf(client: Client, workflowId: string) {
  const runs: Array<{
    runId: string;
    history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;
  }> = [];
  const executions: Array<{ runId: string; startTime: Date }> = [];
  for await (const e of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    executions.push({ runId: e.runId, startTime: e.startTime });
  executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  for (const e of executions)
    runs.push({
      runId: e.runId,
      history: await client.workflow.getHandle(workflowId, e.runId).fetchHistory(),
    });
  // A run that has not completed its first workflow task has nothing to replay (and the replayer
  // waits on such a history forever).
  const completedTask = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;
  return runs.filter((r) => (r.history?.events ?? []).some((e) => e.eventType === completedTask));
}

/** Replays histories against the current workflow code; returns the failures (empty when all replay). */
export async function replayAll(
  bundlePath: string,
  histories: Array<{ workflowId: string; history: unknown }>,
): Promise<string[]> {
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: bundlePath } },
    histories as never,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
  }
  return failures;
}

const History = temporal.api.history.v1.History;

/**
 * Saved as protobuf's canonical object form (enums by name, 64-bit ints and bytes as strings).
 * (The SDK's historyToJSON fails here: @temporalio/common and @temporalio/proto resolve two
 * protobufjs majors, so its Type check rejects the History type.)
 */
export function saveHistory(name: string, history: temporal.api.history.v1.IHistory): void {
  fs.mkdirSync(historiesDir, { recursive: true });
  const obj = History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
  fs.writeFileSync(path.join(historiesDir, `${name}.json`), `${JSON.stringify(obj)}\n`);
}

export function loadSavedHistories(): Array<{ workflowId: string; history: unknown }> {
  if (!fs.existsSync(historiesDir)) return [];
  return fs
    .readdirSync(historiesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: History.fromObject(JSON.parse(fs.readFileSync(path.join(historiesDir, f), 'utf8'))),
    }));
}
