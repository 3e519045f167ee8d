/**
 * `npm run temporal:install`: resolves (and if needed builds) the Temporal CLI, printing where it is.
 * With `--server`, also the Temporal server and sql tool for the server on PostgreSQL
 * (src/infra/temporal-cluster.ts).
 */
import { createLogger } from '../src/lib/logger';
import { resolveTemporalCli } from '../src/infra/temporal-cli';
import { resolveTemporalServer } from '../src/infra/temporal-server-build';

const log = createLogger({ name: 'temporal-install' });

async function main(): Promise<void> {
  const cli = await resolveTemporalCli(log);
  log.info(cli, 'Temporal CLI ready');
  if (process.argv.includes('--server')) {
    const started = Date.now();
    const server = await resolveTemporalServer(log);
    log.info({ ...server, seconds: (Date.now() - started) / 1000 }, 'Temporal server ready');
  }
}

main().catch((err) => {
  log.error({ err: String(err) }, 'could not obtain the Temporal binaries');
  process.exit(1);
});
