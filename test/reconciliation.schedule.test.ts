import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { projectRoot } from '../src/infra/paths';
import type { DevCredentials } from '../src/infra/seed';
import { newId } from '../src/lib/ids';
import { reconciliationScheduleId } from '../src/workflows/reconciliation-messages';
import { createDatabase, dropDatabase } from './helpers/harness';
import { eventually } from './helpers/wait';
import { readStackInfo } from './setup/stack-file';

/**
 * `npm run dev` end to end: the real dev script (scripts/dev.ts) on the test run's PostgreSQL
 * cluster (a database of its own) and Temporal server (a task queue of its own), as a developer
 * starts it. Its start-up puts the demo tenant's reconciliation schedule in place; triggered, the
 * schedule's run goes through the worker the script started and shows in the API it started.
 */
const stack = readStackInfo();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcn-dev-'));
const taskQueue = `test-dev-${newId('card').slice(5)}`;

let databaseUrl: string;
let dev: ChildProcess;
let exited: Promise<void>;
let output = '';
let creds: DevCredentials;
let temporal: Client;

/**
 * The live processes of a process group: the dev script and everything it started (they share its
 * group). Zombies do not count: tsx's esbuild service processes exit with their parent and, orphaned,
 * wait for PID 1 to reap them, which a container's PID 1 may never do.
 */
function liveInGroup(pgid: number): number[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, group, stat]) => pid && Number(group) === pgid && !stat?.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

/** SIGINT (Ctrl-C) to the dev script; resolves once it has exited, or after `timeoutMs`. */
async function interrupt(timeoutMs: number): Promise<boolean> {
  if (dev.exitCode !== null || dev.signalCode) return true;
  dev.kill('SIGINT');
  return Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref()),
  ]);
}

beforeAll(async () => {
  databaseUrl = await createDatabase(stack.databaseUrl);
  // Whatever the test run's environment says about these would change what is under test.
  const inherited = Object.entries(process.env).filter(
    ([name]) =>
      !name.startsWith('RECONCILIATION_') && !['PUBLIC_URL', 'VAULT_KEY', 'TEMPORAL_UI_URL'].includes(name),
  );
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(inherited),
    VCN_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: stack.temporalNamespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    // 0: a port the OS chooses (src/infra/ports.ts `pickPort`), handed to the API as PORT.
    PORT: '0',
    RECONCILIATION_SETTLE_MS: '0',
  };
  // Its own process group: what is left of it after it exits can be found (and, at worst, killed).
  dev = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
    cwd: projectRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => dev.once('exit', () => resolve()));
  const collect = (chunk: Buffer): void => {
    output = `${output}${chunk.toString()}`.slice(-20_000);
  };
  dev.stdout!.on('data', collect);
  dev.stderr!.on('data', collect);

  const credentialsFile = path.join(dataDir, 'dev-credentials.json');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run dev not ready after 50 s:\n${output}`)), 50_000);
    const check = (): void => {
      if (output.includes('platform ready') && fs.existsSync(credentialsFile)) {
        clearTimeout(timer);
        dev.stdout!.off('data', check);
        resolve();
      }
    };
    dev.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`npm run dev exited during start-up (${dev.exitCode}):\n${output}`));
    });
  });
  creds = JSON.parse(fs.readFileSync(credentialsFile, 'utf8')) as DevCredentials;
  temporal = new Client({
    connection: await Connection.connect({ address: stack.temporalAddress }),
    namespace: stack.temporalNamespace,
  });
}, 60_000);

afterAll(async () => {
  // Normally the last test stopped it; this is the safety net when a test failed first.
  if (dev?.pid) {
    await interrupt(40_000);
    if (liveInGroup(dev.pid).length) process.kill(-dev.pid, 'SIGKILL');
  }
  if (temporal) {
    const demo = creds?.tenants.find((t) => t.slug === 'demo');
    if (demo)
      await temporal.schedule
        .getHandle(reconciliationScheduleId(demo.id, 'sandbox'))
        .delete()
        .catch((err) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
    await temporal.connection.close();
  }
  if (databaseUrl) await dropDatabase(stack.databaseUrl, databaseUrl);
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('npm run dev', () => {
  it('puts the demo tenant’s reconciliation schedule in place, and a triggered run completes', async () => {
    const demo = creds.tenants.find((t) => t.slug === 'demo')!;
    expect(demo).toBeDefined();

    const handle = temporal.schedule.getHandle(reconciliationScheduleId(demo.id, 'sandbox'));
    const described = await handle.describe();
    expect(described.spec.intervals).toMatchObject([{ every: 3_600_000 }]);
    expect(described.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'reconciliationWorkflow',
      taskQueue,
    });
    expect(described.action.args).toEqual([
      expect.objectContaining({ tenantId: demo.id, partner: 'sandbox', trigger: 'schedule', settleMs: 0 }),
    ]);
    expect(described.state.paused).toBe(false);

    await handle.trigger();
    const run = await eventually(
      async () => {
        const res = await fetch(`${creds.apiUrl}/admin/reconciliations?partner=sandbox`, {
          headers: { authorization: `Bearer ${demo.operatorKey}` },
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { data: Array<Record<string, any>> };
        const scheduled = body.data.filter((r) => r.trigger === 'schedule');
        const failed = scheduled.find((r) => r.status === 'failed');
        if (failed) throw new Error(`the scheduled run failed: ${failed.error}`);
        return scheduled.find((r) => r.status === 'completed');
      },
      30_000,
      250,
    );
    expect(run).toMatchObject({
      partner: 'sandbox',
      trigger: 'schedule',
      status: 'completed',
      counts: {},
      total: 0,
      error: null,
      workflowId: expect.stringMatching(new RegExp(`^reconcile:${demo.id}:sandbox:scheduled`)),
    });
    expect(run.progress).toMatchObject({ phase: 'completed', compared: { cards: 0, transactions: 0 } });
    // The default window: the 35 days before the run started.
    expect(Date.parse(run.window.to) - Date.parse(run.window.from)).toBe(35 * 86_400_000);
    expect((await handle.describe()).info.numActionsTaken).toBeGreaterThanOrEqual(1);
  }, 45_000);

  it('stops on SIGINT, its worker and API with it', async () => {
    const pgid = dev.pid!;
    // The script, its worker and its API (and, on a cold tsx cache, their esbuild services).
    expect(liveInGroup(pgid).length).toBeGreaterThanOrEqual(3);
    expect(await interrupt(40_000)).toBe(true);
    expect(dev.exitCode).toBe(130); // 128 + SIGINT, as after Ctrl-C
    // Nothing it started is left running (an esbuild service may take a moment to see its parent gone).
    await eventually(async () => liveInGroup(pgid).length === 0, 5_000, 100);
    await expect(fetch(`${creds.apiUrl}/healthz`)).rejects.toThrow();
  }, 45_000);
});
