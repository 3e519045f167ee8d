/**
 * A Temporal server on PostgreSQL, run as a cluster runs it (the compose file's sequence as plain
 * processes): the `server` and `sql` binaries built with `go install` from go.temporal.io/server,
 * the schema created and migrated with the sql tool from that module's schema files, the server
 * started with a copy of that module's `config/development-postgres12.yaml` (ports, persistence and
 * the dynamic-config file adapted), then the namespace and the search attributes created with the
 * Temporal CLI. The server process can be killed (SIGKILL) and started again on the same ports and
 * databases, as the topology test does under load.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import YAML from 'yaml';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../workflows/search-attributes';
import type { InfraLogger } from './log';
import { DYNAMIC_CONFIG_FILE } from './dynamic-config';
import { pickStablePort } from './ports';
import { onProcessExit } from './process-exit';
import { resolveTemporalServer, type ResolvedTemporalServer } from './temporal-server-build';
import { waitForFrontend, waitForSearchAttributes } from './temporal-readiness';

/** The ports one cluster listens on, fixed at its first start (a restart reuses them). */
export interface ClusterPorts {
  frontend: number;
  frontendMembership: number;
  frontendHttp: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

export interface ClusterPersistence {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  visibilityDatabase: string;
}

/**
 * The server's config: the module's development-postgres12.yaml with the ports, the persistence,
 * the log and the dynamic-config file replaced. Every replaced key must be in the template, so a
 * template whose shape changed fails here rather than running with its own defaults.
 */
export function clusterConfig(
  template: string,
  o: { ports: ClusterPorts; persistence: ClusterPersistence; dynamicConfigFile: string; logLevel?: string },
): string {
  const doc = YAML.parseDocument(template);
  const set = (keys: Array<string | number>, value: unknown): void => {
    if (!doc.hasIn(keys)) throw new Error(`the server config template has no ${keys.join('.')}`);
    doc.setIn(keys, value);
  };
  const { ports, persistence: p } = o;
  set(['log', 'level'], o.logLevel ?? 'warn');
  for (const [store, database, maxConns] of [
    ['postgres-default', p.database, 20],
    ['postgres-visibility', p.visibilityDatabase, 10],
  ] as const) {
    const sql = ['persistence', 'datastores', store, 'sql'];
    if (doc.getIn([...sql, 'pluginName']) !== 'postgres12')
      throw new Error(`the server config template's ${store} is not postgres12`);
    set([...sql, 'databaseName'], database);
    set([...sql, 'connectAddr'], `${p.host}:${p.port}`);
    set([...sql, 'user'], p.user);
    set([...sql, 'password'], p.password);
    set([...sql, 'maxConns'], maxConns);
    set([...sql, 'maxIdleConns'], maxConns);
  }
  set(['global', 'pprof', 'port'], 0); // 0: not started
  set(['global', 'metrics', 'prometheus', 'listenAddress'], `127.0.0.1:${ports.metrics}`);
  for (const [service, grpc, membership] of [
    ['frontend', ports.frontend, ports.frontendMembership],
    ['history', ports.history, ports.historyMembership],
    ['matching', ports.matching, ports.matchingMembership],
    ['worker', ports.worker, ports.workerMembership],
  ] as const) {
    set(['services', service, 'rpc', 'grpcPort'], grpc);
    set(['services', service, 'rpc', 'membershipPort'], membership);
    set(['services', service, 'rpc', 'bindOnLocalHost'], true);
  }
  set(['services', 'frontend', 'rpc', 'httpPort'], ports.frontendHttp);
  set(['clusterMetadata', 'clusterInformation', 'active', 'rpcAddress'], `127.0.0.1:${ports.frontend}`);
  set(['dynamicConfigClient', 'filepath'], o.dynamicConfigFile);
  return doc.toString();
}

/** The sql tool's steps, in order (the compose file's `temporal-schema` job runs the same). */
export function schemaSteps(p: ClusterPersistence, schemaDir: string): Array<{ db: string; args: string[] }> {
  return [
    { db: p.database, dir: 'temporal' },
    { db: p.visibilityDatabase, dir: 'visibility' },
  ].flatMap(({ db, dir }) => [
    { db, args: ['--db', db, 'create-database'] },
    { db, args: ['--db', db, 'setup-schema', '-v', '0.0'] },
    { db, args: ['--db', db, 'update-schema', '-d', path.join(schemaDir, dir, 'versioned')] },
  ]);
}

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The environment without the caller's Temporal settings (the CLI would read TEMPORAL_* itself). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
}

/** The role and the two databases on the PostgreSQL server, schema created or brought up to date. */
async function setUpPersistence(
  adminUrl: string,
  p: ClusterPersistence,
  server: ResolvedTemporalServer,
  log: InfraLogger,
): Promise<void> {
  // The compose file's init.sql: a role of its own, allowed to create its databases.
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [p.user]);
    const ident = admin.escapeIdentifier(p.user);
    const password = admin.escapeLiteral(p.password);
    if (!rowCount) await admin.query(`CREATE ROLE ${ident} WITH LOGIN CREATEDB PASSWORD ${password}`);
  } finally {
    await admin.end();
  }
  const env = {
    ...cleanEnv(),
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: p.host,
    SQL_PORT: String(p.port),
    SQL_USER: p.user,
    SQL_PASSWORD: p.password,
  };
  for (const step of schemaSteps(p, server.schemaDir)) {
    const { code, output } = await run(server.sqlToolPath, step.args, env);
    if (code !== 0) {
      if (step.args.includes('create-database') && /already exists/.test(output)) continue;
      throw new Error(`temporal-sql-tool ${step.args.join(' ')} failed (exit ${code}): ${output.trim()}`);
    }
  }
  log.info(
    { component: 'temporal-cluster', databases: [p.database, p.visibilityDatabase] },
    'Temporal schema up to date',
  );
}

/** Picks the cluster's ports once and keeps them in `file`, so a restart (or a later run) reuses them. */
async function clusterPorts(file: string, preferredFrontend?: number): Promise<ClusterPorts> {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterPorts;
  const taken = new Set<number>();
  const next = async (preferred?: number): Promise<number> => {
    const port = await pickStablePort(preferred, taken);
    taken.add(port);
    return port;
  };
  const ports: ClusterPorts = {
    frontend: await next(preferredFrontend),
    frontendMembership: await next(),
    frontendHttp: await next(),
    history: await next(),
    historyMembership: await next(),
    matching: await next(),
    matchingMembership: await next(),
    worker: await next(),
    workerMembership: await next(),
    metrics: await next(),
  };
  fs.writeFileSync(file, `${JSON.stringify(ports, null, 2)}\n`);
  return ports;
}

export interface TemporalClusterHandle {
  address: string;
  namespace: string;
  /** The server's Prometheus metrics. */
  metricsUrl: string;
  /** Where the config, the ports and the server's log are. */
  dir: string;
  logFile: string;
  ports: ClusterPorts;
  persistence: ClusterPersistence;
  /** The running server process's pid (a new one after each restart); undefined while it is down. */
  pid(): number | undefined;
  /** Sends `signal` (default SIGKILL) to the server and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same ports and databases, and waits until it serves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TemporalClusterOptions {
  /** Config, ports and log live here. */
  dir: string;
  /** A superuser connection to the PostgreSQL server the cluster's databases go on. */
  adminUrl: string;
  namespace: string;
  /** The cluster's databases are `<databasePrefix>` and `<databasePrefix>_visibility` (default `temporal`). */
  databasePrefix?: string;
  /** Drop the cluster's databases and forget its ports first. */
  fresh?: boolean;
  preferredPort?: number;
  /** The Temporal CLI (namespace and search attributes). */
  cliPath: string;
  server?: ResolvedTemporalServer;
  log: InfraLogger;
}

const ROLE = 'temporal';
const ROLE_PASSWORD = 'temporal-local-only';

/**
 * Starts a Temporal server on PostgreSQL: schema, server, namespace (retention 72h, as in the
 * compose file), search attributes. Resolves once the namespace answers a visibility query on a
 * custom search attribute, i.e. card workflows can start.
 */
export async function startTemporalCluster(opts: TemporalClusterOptions): Promise<TemporalClusterHandle> {
  const { log } = opts;
  const server = opts.server ?? (await resolveTemporalServer(log));
  fs.mkdirSync(opts.dir, { recursive: true });
  const prefix = opts.databasePrefix ?? 'temporal';
  const pgUrl = new URL(opts.adminUrl);
  const persistence: ClusterPersistence = {
    host: pgUrl.hostname,
    port: Number(pgUrl.port || 5432),
    user: ROLE,
    password: ROLE_PASSWORD,
    database: prefix,
    visibilityDatabase: `${prefix}_visibility`,
  };
  const portsFile = path.join(opts.dir, 'ports.json');
  if (opts.fresh) {
    fs.rmSync(portsFile, { force: true });
    const admin = new Client({ connectionString: opts.adminUrl });
    await admin.connect();
    try {
      for (const db of [persistence.database, persistence.visibilityDatabase])
        await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(db)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  const started = Date.now();
  await setUpPersistence(opts.adminUrl, persistence, server, log);
  const ports = await clusterPorts(portsFile, opts.preferredPort);
  const configDir = path.join(opts.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(
    path.join(configDir, 'development.yaml'),
    clusterConfig(fs.readFileSync(server.configTemplate, 'utf8'), {
      ports,
      persistence,
      dynamicConfigFile: DYNAMIC_CONFIG_FILE,
    }),
  );
  const logFile = path.join(opts.dir, 'server.log');
  const address = `127.0.0.1:${ports.frontend}`;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const launch = async (): Promise<void> => {
    const out = fs.openSync(logFile, 'a');
    const proc = spawn(
      server.serverPath,
      ['--root', opts.dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
      { cwd: opts.dir, env: cleanEnv(), stdio: ['ignore', out, out] },
    );
    fs.closeSync(out);
    child = proc;
    let gone = false;
    const unhook = onProcessExit(() => proc.kill('SIGKILL'));
    exited = new Promise<void>((resolve) =>
      proc.once('exit', (code, signal) => {
        gone = true;
        unhook();
        if (child === proc) child = undefined;
        log.info({ component: 'temporal-cluster', code, signal }, 'Temporal server exited');
        resolve();
      }),
    );
    const waiting = new AbortController();
    try {
      await Promise.race([
        waitForFrontend(address, 90_000, waiting.signal),
        exited.then(() => {
          throw new Error(`the Temporal server exited during start-up (see ${logFile})`);
        }),
      ]);
    } catch (err) {
      if (!gone) proc.kill('SIGKILL');
      throw err;
    } finally {
      waiting.abort();
    }
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (!proc) return;
    const done = exited;
    proc.kill(signal);
    await done;
  };

  try {
    await launch();
    await ensureNamespace(opts.cliPath, address, opts.namespace);
    await waitForSearchAttributes(address, opts.namespace, 60_000);
  } catch (err) {
    await kill();
    throw err;
  }
  log.info(
    { component: 'temporal-cluster', address, seconds: (Date.now() - started) / 1000, source: server.source },
    'Temporal server on PostgreSQL ready',
  );
  return {
    address,
    namespace: opts.namespace,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    dir: opts.dir,
    logFile,
    ports,
    persistence,
    pid: () => child?.pid,
    kill,
    restart: async () => {
      if (child) throw new Error('the Temporal server is running; kill it first');
      await launch();
      await waitForSearchAttributes(address, opts.namespace, 60_000);
      log.info({ component: 'temporal-cluster', address }, 'Temporal server restarted');
    },
    stop: async () => {
      const proc = child;
      if (!proc) return;
      const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await kill('SIGTERM');
      clearTimeout(killer);
    },
  };
}

/** The namespace (retention 72h) and the platform's search attributes, with the Temporal CLI. */
async function ensureNamespace(cliPath: string, address: string, namespace: string): Promise<void> {
  const env = cleanEnv();
  const cli = (args: string[]) => run(cliPath, ['operator', ...args, '--address', address], env);
  const described = await cli(['namespace', 'describe', '--namespace', namespace]);
  if (described.code !== 0) {
    const created = await cli(['namespace', 'create', '--namespace', namespace, '--retention', '72h']);
    if (created.code !== 0 && !/already (exists|registered)/i.test(created.output))
      throw new Error(`temporal operator namespace create failed: ${created.output.trim()}`);
  }
  for (const sa of SEARCH_ATTRIBUTE_DEFINITIONS) {
    // A freshly created namespace may take a moment to be known to every service: tried a few times.
    for (let attempt = 1; ; attempt++) {
      const res = await cli([
        'search-attribute',
        'create',
        '--namespace',
        namespace,
        '--name',
        sa.name,
        '--type',
        sa.type,
      ]);
      if (res.code === 0) break;
      if (attempt >= 20)
        throw new Error(`temporal operator search-attribute create ${sa.name} failed: ${res.output.trim()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
