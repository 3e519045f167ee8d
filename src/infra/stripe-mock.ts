import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { goInstall, isExecutable, onPath } from './go-install';
import type { InfraLogger } from './log';
import { userCacheDir } from './paths';

/**
 * The stripe-mock release `go install` builds. The Go module proxy serves only some tags (v0.196.0,
 * v0.200.0 and v0.201.0 answer 403), so the version is pinned to one that is served.
 */
export const STRIPE_MOCK_VERSION = 'v0.203.0';

export interface ResolvedStripeMock {
  path: string;
  source: 'STRIPE_MOCK_PATH' | 'PATH' | 'cache' | 'go-install';
}

export function stripeMockCacheDir(): string {
  return path.join(userCacheDir(), 'stripe-mock');
}

const cachedBinary = (): string => path.join(stripeMockCacheDir(), STRIPE_MOCK_VERSION, 'stripe-mock');

/**
 * Finds a stripe-mock binary, in this order: $STRIPE_MOCK_PATH, `stripe-mock` on PATH, the copy
 * built before into the user cache, and finally `go install github.com/stripe/stripe-mock@v0.203.0`
 * into that cache (never into the clone).
 */
export async function resolveStripeMock(log: InfraLogger): Promise<ResolvedStripeMock> {
  const fromEnv = process.env.STRIPE_MOCK_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`STRIPE_MOCK_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'STRIPE_MOCK_PATH' };
  }
  const fromPath = onPath('stripe-mock');
  if (fromPath) return { path: fromPath, source: 'PATH' };
  if (isExecutable(cachedBinary())) return { path: cachedBinary(), source: 'cache' };
  return { path: await goInstallStripeMock(log), source: 'go-install' };
}

/** Builds stripe-mock with `go install` into <cache>/stripe-mock/<version>/stripe-mock (about 20 s on 2 cores). */
export async function goInstallStripeMock(log: InfraLogger): Promise<string> {
  const [binary] = await goInstall({
    packages: [`github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION}`],
    binaries: ['stripe-mock'],
    outDir: path.join(stripeMockCacheDir(), STRIPE_MOCK_VERSION),
    what: `stripe-mock ${STRIPE_MOCK_VERSION}`,
    component: 'stripe-mock',
    log,
  });
  return binary!;
}

export interface StripeMockHandle {
  /** `http://127.0.0.1:<port>`: what a subscription's `apiBaseUrl` names in tests. */
  url: string;
  port: number;
  /** Where its HTTPS listener is (`127.0.0.1:<port>`: loopback too, never every interface). */
  httpsAddress: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const LISTENING_HTTP = /Listening for HTTP at address: ([0-9.]+):([0-9]+)/;
const LISTENING_HTTPS = /Listening for HTTPS at address: (\S+)/;

/**
 * Starts stripe-mock on loopback with both listeners on ports the OS picks (with only
 * `-http-addr`, it also opens HTTPS on [::]:12112, every interface), and resolves once it says
 * where it listens for both.
 */
export async function startStripeMock(opts: {
  binary: string;
  log: InfraLogger;
  timeoutMs?: number;
}): Promise<StripeMockHandle> {
  const child: ChildProcess = spawn(
    opts.binary,
    ['-http-addr', '127.0.0.1:0', '-https-addr', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      opts.log.info({ component: 'stripe-mock', code, signal }, 'stripe-mock exited');
      resolve();
    }),
  );
  let output = '';
  const listening = await new Promise<{ port: number; httpsAddress: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`stripe-mock did not report its HTTP address in time; output:\n${output.slice(-2000)}`),
      );
    }, opts.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8000);
      const m = LISTENING_HTTP.exec(output);
      const tls = LISTENING_HTTPS.exec(output);
      if (m && tls) {
        clearTimeout(timer);
        // From here on its output (a line per request) is drained unread, so the pipe never fills.
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve({ port: Number(m[2]), httpsAddress: tls[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exitPromise.then(() => {
      clearTimeout(timer);
      reject(new Error(`stripe-mock exited during start-up; output:\n${output.slice(-2000)}`));
    });
  });
  const { port, httpsAddress } = listening;
  const url = `http://127.0.0.1:${port}`;
  opts.log.info({ component: 'stripe-mock', url, httpsAddress, pid: child.pid }, 'stripe-mock ready');
  return {
    url,
    port,
    httpsAddress,
    pid: child.pid,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(killer);
    },
  };
}
