import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundleOption } from '@temporalio/worker';
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

/** Replays histories against a workflow bundle; one result per history, with its error if it failed. */
export async function replayResults(
  bundle: WorkflowBundleOption,
  histories: Array<{ workflowId: string; history: unknown }>,
): Promise<Array<{ workflowId: string; error?: Error }>> {
  const results: Array<{ workflowId: string; error?: Error }> = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories as never))
    results.push({ workflowId: r.workflowId, error: r.error });
  return results;
}

/** Replays histories against the current workflow code; returns the failures (empty when all replay). */
export async function replayAll(
  bundlePath: string,
  histories: Array<{ workflowId: string; history: unknown }>,
): Promise<string[]> {
  return (await replayResults({ codePath: bundlePath }, histories))
    .filter((r) => r.error)
    .map((r) => `${r.workflowId}: ${String(r.error)}`);
}

/**
 * Bundles workflow code the way the worker does, optionally with a module swapped: a request
 * `request` made from directory `context` resolves to `by` instead (the replay test's negative
 * controls put an altered module in place of a real one).
 */
export async function bundleWorkflows(
  workflowsPath: string,
  swap?: { context: string; request: string; by: string },
): Promise<{ code: string }> {
  const quiet = () => undefined;
  return bundleWorkflowCode({
    workflowsPath,
    logger: {
      log: quiet,
      trace: quiet,
      debug: quiet,
      info: quiet,
      warn: quiet,
      error: (m) => console.error(m),
    },
    webpackConfigHook: (config) =>
      swap
        ? {
            ...config,
            plugins: [
              ...(config.plugins ?? []),
              {
                apply(compiler: any) {
                  compiler.hooks.normalModuleFactory.tap('swap-module', (factory: any) =>
                    factory.hooks.beforeResolve.tap('swap-module', (data: any) => {
                      if (
                        data.request === swap.request &&
                        path.resolve(data.context) === path.resolve(swap.context)
                      )
                        data.request = swap.by;
                    }),
                  );
                },
              },
            ],
          }
        : config,
  });
}

/** The text of every payload in a history (payload bytes decoded), to look for an activity's name. */
export function payloadText(history: unknown): string {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (node instanceof Uint8Array) out.push(Buffer.from(node).toString());
    else if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node))
        if (k === 'data' && typeof v === 'string') out.push(Buffer.from(v, 'base64').toString());
        else walk(v);
  };
  walk(history);
  return out.join('\n');
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
