import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createKnex, migrateLatest } from '../../src/db/knex';
import { startStack, type Stack } from '../../src/infra/stack';
import { createLogger } from '../../src/lib/logger';
import { generateVaultKeySpec } from '../../src/vault/vault';
import { workflowsPath } from '../../src/worker/create-worker';
import { testDataDir, writeStackInfo } from './stack-file';

declare global {
  var __VCN_TEST_STACK__: Stack | undefined;
}

/**
 * Starts the real stack once per test run, the same way `npm run dev` does (src/infra/stack.ts):
 * embedded PostgreSQL with a fresh database, and a fresh Temporal dev server with a SQLite file,
 * both under .data/test. Builds the workflow bundle once for every test file's worker.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  fs.mkdirSync(testDataDir, { recursive: true });
  const logFile = path.join(testDataDir, 'logs', 'test.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, '');
  const log = createLogger({ name: 'test-setup', level: 'warn', file: logFile });
  const progress = (msg: string): void =>
    console.log(`[test-setup] ${msg} (+${((Date.now() - started) / 1000).toFixed(1)}s)`);

  progress('starting PostgreSQL and Temporal');
  const stack = await startStack({
    dir: testDataDir,
    databaseName: 'vcn_test',
    freshDatabase: true,
    freshTemporal: true,
    ui: false,
    log: {
      info: (o, m) => {
        log.info(o, m);
        if (m && /ready|resolved|building|built|initialising/i.test(m)) progress(m);
      },
      warn: (o, m) => log.warn(o, m),
      error: (o, m) => log.error(o, m),
    },
  });
  globalThis.__VCN_TEST_STACK__ = stack;

  const knex = createKnex(stack.databaseUrl);
  await migrateLatest(knex);
  await knex.destroy();
  progress('migrations applied');

  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (m) => console.error(m),
    },
  });
  const workflowBundlePath = path.join(testDataDir, 'workflow-bundle.js');
  fs.writeFileSync(workflowBundlePath, code);
  progress('workflow bundle built');

  writeStackInfo({
    databaseUrl: stack.databaseUrl,
    temporalAddress: stack.temporalAddress,
    temporalNamespace: stack.temporalNamespace,
    vaultKey: generateVaultKeySpec('test1'),
    workflowBundlePath,
    logFile,
  });
}
