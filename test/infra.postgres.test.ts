import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/infra/postgres';
import { embeddedPostgresBinaries, ROOT_SHARED_DIRS, SetupError } from '../src/infra/postgres-files';

/**
 * The embedded PostgreSQL's start-up where it used to crash or say nothing useful: as root from a
 * folder the `postgres` OS user cannot enter (any `mktemp -d`, `/root`: an unhandled
 * `spawn … initdb EACCES` before), a data directory of another PostgreSQL version, a taken port,
 * and a kill (SIGKILL) followed by a restart on the same port and data.
 */
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const asRoot = process.getuid?.() === 0;
const rootIt = asRoot ? it : it.skip;

async function query(pg: EmbeddedPostgresHandle, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: pg.adminUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** What a start-up failure said, and that it said it in one line. */
async function failure(start: Promise<unknown>): Promise<string> {
  const err = await start.then(
    () => {
      throw new Error('the start-up succeeded');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SetupError);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('the embedded PostgreSQL start-up', () => {
  // mkdtemp makes a 0700 folder owned by root: the postgres user cannot enter it.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vcn-infra-pg-'));
  const started: EmbeddedPostgresHandle[] = [];
  const cleanups: string[] = [];
  afterAll(async () => {
    for (const pg of started) await pg.stop();
    for (const dir of cleanups) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(`${dir}.log`, { force: true });
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  rootIt(
    'as root in a folder the postgres user cannot enter, keeps the data where it can, linked from the project',
    async () => {
      expect(fs.statSync(tmp).mode & 0o077).toBe(0);
      const dir = path.join(tmp, 'project', '.data', 'postgres');
      const pg = await startEmbeddedPostgres({ dir, log });
      started.push(pg);
      cleanups.push(pg.dataDir);
      expect(pg.dataDir.startsWith(ROOT_SHARED_DIRS.data)).toBe(true);
      expect(fs.lstatSync(dir).isSymbolicLink()).toBe(true);
      expect(fs.realpathSync(dir)).toBe(pg.dataDir);
      await query(pg, 'CREATE DATABASE marker');

      // Deleting the project's .data starts afresh, as it does where no link is needed.
      await pg.stop();
      fs.rmSync(path.join(tmp, 'project', '.data'), { recursive: true });
      const again = await startEmbeddedPostgres({ dir, log });
      started.push(again);
      expect(again.dataDir).toBe(pg.dataDir);
      expect(await query(again, "SELECT 1 FROM pg_database WHERE datname = 'marker'")).toHaveLength(0);
      await again.stop();
    },
  );

  rootIt(
    'as root with the binaries in a folder the postgres user cannot enter, runs a copy it can',
    async () => {
      const real = embeddedPostgresBinaries();
      const closed = path.join(tmp, 'node_modules', 'native');
      fs.cpSync(real.nativeDir, closed, { recursive: true, verbatimSymlinks: true });
      const version = `${real.version}-test-${process.pid}`;
      const copy = path.join(ROOT_SHARED_DIRS.binaries, `postgresql-${version}`);
      cleanups.push(copy);
      const dataDir = path.join(ROOT_SHARED_DIRS.data, `test-binaries-${process.pid}`);
      cleanups.push(dataDir);
      const pg = await startEmbeddedPostgres({
        dir: dataDir,
        log,
        binaries: { ...real, nativeDir: closed, version },
      });
      started.push(pg);
      expect(await query(pg, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(fs.existsSync(path.join(copy, 'bin', 'postgres'))).toBe(true);
      await pg.stop();
    },
  );

  it('refuses a data directory of another PostgreSQL version in one line: the cause and the fix', async () => {
    const dir = path.join(tmp, 'old', 'postgres');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'PG_VERSION'), '16\n');
    const message = await failure(startEmbeddedPostgres({ dir, log }));
    cleanups.push(fs.realpathSync(dir)); // as root, moved where the postgres user can reach it
    expect(message).toContain(
      `made by PostgreSQL 16 and this project runs PostgreSQL ${embeddedPostgresBinaries().major}`,
    );
    expect(message).toContain(`delete ${dir} to start afresh`);
    expect(message).toContain('DATABASE_URL');
  });

  it('refuses a non-empty directory that holds no cluster', async () => {
    const dir = path.join(tmp, 'junk', 'postgres');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a cluster');
    expect(await failure(startEmbeddedPostgres({ dir, log }))).toContain('no PG_VERSION');
    cleanups.push(fs.realpathSync(dir));
  });

  it('says which port is taken; given only a preference, takes another; survives a kill', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const dir = path.join(asRoot ? ROOT_SHARED_DIRS.data : tmp, `test-port-${process.pid}`);
      cleanups.push(dir);
      const message = await failure(startEmbeddedPostgres({ dir, port: taken, log }));
      expect(message).toContain(`127.0.0.1:${taken}`);
      expect(message).toContain('another process holds the port');

      const pg = await startEmbeddedPostgres({ dir, preferredPort: taken, log });
      started.push(pg);
      expect(pg.port).not.toBe(taken);
      await query(pg, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');

      // SIGKILL to the whole server (postmaster and backends, as a crash), then back on the same
      // port and data: the committed row is there.
      const pid = pg.pid()!;
      await pg.kill('SIGKILL');
      expect(pg.pid()).toBeUndefined();
      expect(() => process.kill(pid, 0)).toThrow();
      await pg.restart();
      expect(await query(pg, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
      await pg.stop();
    } finally {
      holder.close();
    }
  });
});
