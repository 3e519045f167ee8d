/** `npm run temporal:install`: resolves (and if needed builds) the Temporal CLI, printing where it is. */
import { createLogger } from '../src/lib/logger';
import { resolveTemporalCli } from '../src/infra/temporal-cli';

const log = createLogger({ name: 'temporal-install' });
resolveTemporalCli(log)
  .then((cli) => log.info(cli, 'Temporal CLI ready'))
  .catch((err) => {
    log.error({ err: String(err) }, 'could not obtain the Temporal CLI');
    process.exit(1);
  });
