/**
 * The Temporal server's binaries: \`server\` and the \`sql\` tool built with \`go install\` from
 * go.temporal.io/server at the version the pinned CLI embeds, cached in the user's cache directory,
 * with the module's schema files and configuration template beside them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { goInstall, goModuleDir, isExecutable } from './go-install';
import type { InfraLogger } from './log';
import { userCacheDir } from './paths';

/** The server version the pinned Temporal CLI (v1.5.1) embeds in its dev server. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';

export interface ResolvedTemporalServer {
  serverPath: string;
  sqlToolPath: string;
  /** `schema/postgresql/v12` of the module (its `temporal/versioned` and `visibility/versioned`). */
  schemaDir: string;
  /** The module's `config/development-postgres12.yaml`. */
  configTemplate: string;
  source: 'env' | 'cache' | 'go-install';
}

export function serverCacheDir(): string {
  return path.join(userCacheDir(), 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/** What is kept of the module beside the binaries, so a cached build needs no Go module cache. */
const SCHEMA_SUBDIR = path.join('schema', 'postgresql', 'v12');
const CONFIG_SUBFILE = path.join('config', 'development-postgres12.yaml');

function moduleFiles(moduleDir: string): { schemaDir: string; configTemplate: string } | null {
  const schemaDir = path.join(moduleDir, SCHEMA_SUBDIR);
  const configTemplate = path.join(moduleDir, CONFIG_SUBFILE);
  return fs.existsSync(path.join(schemaDir, 'temporal', 'versioned')) && fs.existsSync(configTemplate)
    ? { schemaDir, configTemplate }
    : null;
}

/**
 * Finds the Temporal server and sql tool, in this order: $TEMPORAL_SERVER_PATH and
 * $TEMPORAL_SQL_TOOL_PATH, a build in the user cache (<cache>/temporal-server/v1.29.1), and
 * finally `go install go.temporal.io/server/cmd/server@v1.29.1 …/cmd/tools/sql@v1.29.1` into that
 * cache (about 2 minutes on 2 cores when the CLI's modules are cached; progress every 10 s). The
 * schema files and the config template come from the module: kept beside the cached build, or
 * (with binaries from the environment) $TEMPORAL_SERVER_MODULE_DIR or the Go module cache.
 */
export async function resolveTemporalServer(log: InfraLogger): Promise<ResolvedTemporalServer> {
  const cache = serverCacheDir();
  const fromEnv = { server: process.env.TEMPORAL_SERVER_PATH, sql: process.env.TEMPORAL_SQL_TOOL_PATH };
  for (const [name, file] of Object.entries({
    TEMPORAL_SERVER_PATH: fromEnv.server,
    TEMPORAL_SQL_TOOL_PATH: fromEnv.sql,
  }))
    if (file && !isExecutable(file)) throw new Error(`${name}=${file} is not an executable file`);
  if (fromEnv.server && fromEnv.sql) {
    const files =
      moduleFiles(process.env.TEMPORAL_SERVER_MODULE_DIR ?? path.join(cache, 'module')) ??
      moduleFiles(goModuleDir(`${MODULE}@${TEMPORAL_SERVER_VERSION}`));
    if (!files) throw new Error(`the schema files of ${MODULE}@${TEMPORAL_SERVER_VERSION} were not found`);
    return { serverPath: fromEnv.server, sqlToolPath: fromEnv.sql, ...files, source: 'env' };
  }
  const cached = {
    serverPath: path.join(cache, 'temporal-server'),
    sqlToolPath: path.join(cache, 'temporal-sql-tool'),
  };
  let source: ResolvedTemporalServer['source'] = 'cache';
  if (
    !isExecutable(cached.serverPath) ||
    !isExecutable(cached.sqlToolPath) ||
    !moduleFiles(path.join(cache, 'module'))
  ) {
    source = 'go-install';
    await goInstall({
      packages: [
        `${MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
        `${MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
      ],
      binaries: ['server', 'sql'],
      outDir: cache,
      what: `the Temporal server ${TEMPORAL_SERVER_VERSION}`,
      component: 'temporal-server',
      log,
      prepare: (dir) => {
        // Named as the images name them (and so counted as Temporal by the benchmarks' CPU meter).
        fs.renameSync(path.join(dir, 'server'), path.join(dir, 'temporal-server'));
        fs.renameSync(path.join(dir, 'sql'), path.join(dir, 'temporal-sql-tool'));
        const moduleDir = goModuleDir(`${MODULE}@${TEMPORAL_SERVER_VERSION}`);
        fs.cpSync(path.join(moduleDir, SCHEMA_SUBDIR), path.join(dir, 'module', SCHEMA_SUBDIR), {
          recursive: true,
        });
        fs.mkdirSync(path.join(dir, 'module', 'config'), { recursive: true });
        fs.copyFileSync(path.join(moduleDir, CONFIG_SUBFILE), path.join(dir, 'module', CONFIG_SUBFILE));
        // The module cache is read-only; the copies need not be.
        for (const f of fs.readdirSync(path.join(dir, 'module'), { recursive: true, withFileTypes: true }))
          fs.chmodSync(path.join(f.parentPath, f.name), f.isDirectory() ? 0o755 : 0o644);
      },
    });
  }
  const files = moduleFiles(path.join(cache, 'module'))!;
  return {
    serverPath: fromEnv.server ?? cached.serverPath,
    sqlToolPath: fromEnv.sql ?? cached.sqlToolPath,
    ...files,
    source,
  };
}
