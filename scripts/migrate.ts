/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
import { createKnex, migrateLatest } from '../src/db/knex';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required (npm run dev migrates its embedded database itself)');
  const knex = createKnex(url);
  try {
    const applied = await migrateLatest(knex);
    console.log(JSON.stringify({ level: 'info', msg: 'migrations applied', applied }));
  } finally {
    await knex.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
