import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { InfraLogger } from './log';
import { userCacheDir } from './paths';

/**
 * Versions of github.com/temporalio/cli that `go install` accepts (later releases carry a
 * `replace` directive, which `go install pkg@version` refuses). Tried in this order.
 */
export const GO_INSTALL_VERSIONS = ['v1.5.1', 'v1.4.1', 'v1.3.0'] as const;

export interface ResolvedCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'sdk-download' | 'go-install';
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

export function cliCacheDir(): string {
  return path.join(userCacheDir(), 'temporal-cli');
}

function cachedCopies(): string[] {
  const found: string[] = [];
  for (const v of GO_INSTALL_VERSIONS) {
    const p = path.join(cliCacheDir(), v, 'temporal');
    if (isExecutable(p)) found.push(p);
  }
  const downloaded = path.join(cliCacheDir(), 'sdk-download');
  if (fs.existsSync(downloaded)) {
    for (const f of fs.readdirSync(downloaded)) {
      const p = path.join(downloaded, f);
      if (/temporal/i.test(f) && isExecutable(p)) found.push(p);
    }
  }
  return found;
}

/**
 * Finds a Temporal CLI binary, in this order: $TEMPORAL_CLI_PATH, `temporal` on PATH, a copy this
 * project built or downloaded before (user cache dir), the SDK's own download (needs internet),
 * and finally `go install github.com/temporalio/cli/cmd/temporal@<v>` for v1.5.1, v1.4.1, v1.3.0.
 */
export async function resolveTemporalCli(log: InfraLogger): Promise<ResolvedCli> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'TEMPORAL_CLI_PATH' };
  }
  const fromPath = onPath('temporal');
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const cached = cachedCopies();
  if (cached.length) return { path: cached[0]!, source: 'cache' };

  const failures: string[] = [];
  if (process.env.VCN_SKIP_SDK_DOWNLOAD !== '1') {
    try {
      const p = await sdkDownload(log);
      return { path: p, source: 'sdk-download' };
    } catch (err) {
      failures.push(`SDK download: ${String((err as Error).message ?? err)}`);
      log.warn(
        { component: 'temporal-cli', err: String(err) },
        'SDK download of the Temporal CLI failed; building with go install',
      );
    }
  }
  for (const version of GO_INSTALL_VERSIONS) {
    try {
      return { path: await goInstall(version, log), source: 'go-install' };
    } catch (err) {
      failures.push(`go install ${version}: ${String((err as Error).message ?? err)}`);
      log.error(
        { component: 'temporal-cli', version, err: String(err) },
        'go install of the Temporal CLI failed',
      );
    }
  }
  throw new Error(`could not obtain a Temporal CLI binary:\n- ${failures.join('\n- ')}`);
}

/** The SDK's cached download (what TestWorkflowEnvironment.createLocal does), into our cache dir. */
async function sdkDownload(log: InfraLogger): Promise<string> {
  const downloadDir = path.join(cliCacheDir(), 'sdk-download');
  fs.mkdirSync(downloadDir, { recursive: true });
  log.info({ component: 'temporal-cli', downloadDir }, 'trying the Temporal SDK download of the CLI');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const timeoutMs = Number(process.env.VCN_SDK_DOWNLOAD_TIMEOUT_MS ?? 60_000);
  let timer: NodeJS.Timeout | undefined;
  const env = await Promise.race([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir } },
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  await env.teardown();
  const copy = cachedCopies().find((p) => p.startsWith(downloadDir));
  if (!copy) throw new Error('the SDK started a server but its binary was not found in the download dir');
  return copy;
}

function goBinary(): string {
  const candidates = [onPath('go'), '/usr/local/go/bin/go', '/usr/lib/go/bin/go'].filter(Boolean) as string[];
  const found = candidates.find(isExecutable);
  if (!found) throw new Error('Go toolchain not found (install Go ≥ 1.23 or set TEMPORAL_CLI_PATH)');
  return found;
}

/** Builds the CLI with `go install`, showing progress, into <cache>/temporal-cli/<version>/temporal. */
export async function goInstall(version: string, log: InfraLogger): Promise<string> {
  const go = goBinary();
  const outDir = path.join(cliCacheDir(), version);
  const tmpDir = `${outDir}.partial-${process.pid}`;
  fs.mkdirSync(tmpDir, { recursive: true });
  const goVersion = spawnSync(go, ['version'], { encoding: 'utf8' }).stdout.trim();
  log.info(
    { component: 'temporal-cli', version, go: goVersion, outDir },
    `building the Temporal CLI ${version} with go install (first run only; several minutes on 2 cores)`,
  );
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', '-v', `github.com/temporalio/cli/cmd/temporal@${version}`], {
      env: { ...process.env, GOBIN: tmpDir, GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let packages = 0;
    let downloads = 0;
    let tail = '';
    const progress = setInterval(() => {
      log.info(
        {
          component: 'temporal-cli',
          version,
          modulesDownloaded: downloads,
          packagesCompiled: packages,
          elapsedS: Math.round((Date.now() - started) / 1000),
        },
        'building the Temporal CLI…',
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
      else reject(new Error(`exit code ${code}; last output:\n${tail}`));
    });
  });
  const built = path.join(tmpDir, 'temporal');
  if (!isExecutable(built)) throw new Error(`go install succeeded but ${built} is missing`);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.renameSync(tmpDir, outDir);
  log.info(
    { component: 'temporal-cli', version, seconds: Math.round((Date.now() - started) / 1000) },
    'Temporal CLI built',
  );
  return path.join(outDir, 'temporal');
}
