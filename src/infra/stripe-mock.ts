import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
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

function goBinary(): string {
  const candidates = [onPath('go'), '/usr/local/go/bin/go', '/usr/lib/go/bin/go'].filter(Boolean) as string[];
  const found = candidates.find(isExecutable);
  if (!found) throw new Error('Go toolchain not found (install Go ≥ 1.22 or set STRIPE_MOCK_PATH)');
  return found;
}

/**
 * Builds stripe-mock with `go install`, logging progress every 10 s, into
 * <cache>/stripe-mock/<version>/stripe-mock. Built in a directory of its own and renamed into
 * place, so a concurrent or interrupted build never leaves a half-written binary where it is
 * looked for.
 */
export async function goInstallStripeMock(log: InfraLogger): Promise<string> {
  const go = goBinary();
  const outDir = path.join(stripeMockCacheDir(), STRIPE_MOCK_VERSION);
  const tmpDir = `${outDir}.partial-${process.pid}`;
  fs.mkdirSync(tmpDir, { recursive: true });
  const goVersion = spawnSync(go, ['version'], { encoding: 'utf8' }).stdout.trim();
  log.info(
    { component: 'stripe-mock', version: STRIPE_MOCK_VERSION, go: goVersion, outDir },
    `building stripe-mock ${STRIPE_MOCK_VERSION} with go install (first run only; about 20 s on 2 cores)`,
  );
  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', '-v', `github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION}`], {
        env: { ...process.env, GOBIN: tmpDir, GOFLAGS: '-mod=mod' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let packages = 0;
      let downloads = 0;
      let tail = '';
      const progress = setInterval(() => {
        log.info(
          {
            component: 'stripe-mock',
            modulesDownloaded: downloads,
            packagesCompiled: packages,
            elapsedS: Math.round((Date.now() - started) / 1000),
          },
          'building stripe-mock…',
        );
      }, 10_000);
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString('utf8');
        tail = (tail + text).slice(-4000);
        for (const line of text.split('\n')) {
          if (line.startsWith('go: downloading')) downloads++;
          else if (line.trim() && !line.startsWith('go:')) packages++;
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', (err) => {
        clearInterval(progress);
        reject(err);
      });
      child.on('close', (code) => {
        clearInterval(progress);
        if (code === 0) resolve();
        else reject(new Error(`go install stripe-mock exited ${code}; last output:\n${tail}`));
      });
    });
    const built = path.join(tmpDir, 'stripe-mock');
    if (!isExecutable(built)) throw new Error(`go install succeeded but ${built} is missing`);
    if (isExecutable(cachedBinary())) {
      // Another process finished first: keep its copy.
      fs.rmSync(tmpDir, { recursive: true, force: true });
    } else {
      fs.rmSync(outDir, { recursive: true, force: true });
      fs.renameSync(tmpDir, outDir);
    }
  } catch (err) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
  log.info(
    { component: 'stripe-mock', seconds: Math.round((Date.now() - started) / 1000) },
    'stripe-mock built',
  );
  return cachedBinary();
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
