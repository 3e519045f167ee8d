import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { knexSnakeCaseMappers, Model } from 'objection';
import pg from 'pg';

// bigint columns hold money in minor units: parse to number, refusing anything a double cannot hold exactly.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} exceeds the safe integer range`);
  return n;
});

export function createKnex(
  databaseUrl: string,
  opts: { poolMax?: number; applicationName?: string } = {},
): Knex {
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: opts.applicationName ?? 'vcn' },
    // A few connections stay open: opening one (a PostgreSQL backend process and its
    // authentication) under a burst stalled acknowledgements by 100–200 ms in bench:webhooks.
    pool: { min: Math.min(4, opts.poolMax ?? 10), max: opts.poolMax ?? 10 },
    ...knexSnakeCaseMappers(),
  });
  Model.knex(knex);
  return knex;
}

export const migrationsDirectory = path.join(__dirname, 'migrations');

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({
    directory: migrationsDirectory,
    loadExtensions: ['.ts', '.js'],
  })) as [number, string[]];
  return applied;
}

/** The migrations not yet applied to this database (none: it is current). */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const [, pending] = (await knex.migrate.list({
    directory: migrationsDirectory,
    loadExtensions: ['.ts', '.js'],
  })) as [unknown[], Array<{ file: string } | string>];
  return pending.map((m) => (typeof m === 'string' ? m : m.file));
}
