import fs from 'node:fs';
import path from 'node:path';
import type { InfraLogger } from './log';
import { goInstall, isExecutable, onPath } from './go-install';
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
      return { path: await goInstallCli(version, log), source: 'go-install' };
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

/** Builds the CLI with `go install`, showing progress, into <cache>/temporal-cli/<version>/temporal. */
async function goInstallCli(version: string, log: InfraLogger): Promise<string> {
  const [cli] = await goInstall({
    packages: [`github.com/temporalio/cli/cmd/temporal@${version}`],
    binaries: ['temporal'],
    outDir: path.join(cliCacheDir(), version),
    what: `the Temporal CLI ${version}`,
    component: 'temporal-cli',
    log,
  });
  return cli!;
}
