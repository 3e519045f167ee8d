import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { projectRoot } from './paths';

/**
 * The Temporal dynamic config the platform needs (update-with-start, updates, updates in flight
 * per card): the file `docker-compose.yml` mounts into its server. The server on PostgreSQL reads
 * it as its dynamic-config file; the CLI dev server gets the same values as flags.
 */
export const DYNAMIC_CONFIG_FILE = path.join(projectRoot, 'deploy', 'temporal', 'dynamicconfig.yaml');

/**
 * `--dynamic-config-value KEY=JSON` flags for `temporal server start-dev` from a dynamic-config
 * file. A flag cannot carry constraints, so every value in the file must apply everywhere.
 */
export function devServerDynamicConfigFlags(file = DYNAMIC_CONFIG_FILE): string[] {
  const doc = (YAML.parse(fs.readFileSync(file, 'utf8')) ?? {}) as Record<
    string,
    Array<{ value: unknown; constraints?: Record<string, unknown> }>
  >;
  return Object.entries(doc).flatMap(([key, entries]) => {
    if (!Array.isArray(entries) || entries.length !== 1)
      throw new Error(`${file}: ${key} must have exactly one value for the dev server`);
    const [{ value, constraints }] = entries as [{ value: unknown; constraints?: object }];
    if (constraints && Object.keys(constraints).length)
      throw new Error(`${file}: ${key} has constraints, which the dev server's flags cannot express`);
    return ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`];
  });
}
