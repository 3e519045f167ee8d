import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { InfraLogger } from './log';

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export function goBinary(): string {
  const candidates = [onPath('go'), '/usr/local/go/bin/go', '/usr/lib/go/bin/go'].filter(Boolean) as string[];
  const found = candidates.find(isExecutable);
  if (!found) throw new Error('Go toolchain not found (install Go ≥ 1.23, or set the binary path variables)');
  return found;
}

/**
 * `go install -v <packages>` into `outDir` (a user cache directory, never the clone), logging
 * progress every 10 s. Builds into `<outDir>.partial-<pid>` and renames it when every binary is
 * there, so an interrupted build never leaves a half-filled cache entry. `binaries` are the file
 * names the packages produce; returns their paths in `outDir`. `prepare` may add files (schemas,
 * configs) to the partial directory before it is renamed.
 */
export async function goInstall(opts: {
  packages: string[];
  binaries: string[];
  outDir: string;
  /** What is being built, for log lines: e.g. 'the Temporal CLI v1.5.1'. */
  what: string;
  component: string;
  log: InfraLogger;
  prepare?: (partialDir: string) => void;
}): Promise<string[]> {
  const { log, component, what, outDir } = opts;
  const go = goBinary();
  const tmpDir = `${outDir}.partial-${process.pid}`;
  fs.mkdirSync(tmpDir, { recursive: true });
  const goVersion = spawnSync(go, ['version'], { encoding: 'utf8' }).stdout.trim();
  log.info(
    { component, packages: opts.packages, go: goVersion, outDir },
    `building ${what} with go install (first run only; minutes on 2 cores)`,
  );
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', '-v', ...opts.packages], {
      env: { ...process.env, GOBIN: tmpDir, GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let packages = 0;
    let downloads = 0;
    let tail = '';
    const progress = setInterval(() => {
      log.info(
        {
          component,
          modulesDownloaded: downloads,
          packagesCompiled: packages,
          elapsedS: Math.round((Date.now() - started) / 1000),
        },
        `building ${what}…`,
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
  for (const b of opts.binaries) {
    const built = path.join(tmpDir, b);
    if (!isExecutable(built)) throw new Error(`go install succeeded but ${built} is missing`);
  }
  opts.prepare?.(tmpDir);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.renameSync(tmpDir, outDir);
  log.info({ component, seconds: Math.round((Date.now() - started) / 1000) }, `${what} built`);
  return opts.binaries.map((b) => path.join(outDir, b));
}

/**
 * The directory of `module@version` in the Go module cache, downloading it (from the module proxy)
 * when it is missing: `go mod download -json` prints it.
 */
export function goModuleDir(moduleAtVersion: string): string {
  const go = goBinary();
  const res = spawnSync(go, ['mod', 'download', '-json', moduleAtVersion], {
    encoding: 'utf8',
    // Outside any module: `go mod download mod@version` needs no go.mod.
    cwd: os.tmpdir(),
    env: { ...process.env, GOFLAGS: '-mod=mod' },
  });
  let info: { Dir?: string; Error?: string } = {};
  try {
    info = JSON.parse(res.stdout) as typeof info;
  } catch {
    // reported below
  }
  if (res.status !== 0 || !info.Dir)
    throw new Error(`go mod download ${moduleAtVersion} failed: ${info.Error ?? res.stderr.trim()}`);
  return info.Dir;
}
