import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';

/** Where the test run keeps its PostgreSQL, Temporal SQLite file, logs and workflow bundle. */
export const testDataDir = path.join(projectRoot, '.data', 'test');
const stackFile = path.join(testDataDir, 'stack.json');

export interface TestStackInfo {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  vaultKey: string;
  workflowBundlePath: string;
  logFile: string;
}

export function writeStackInfo(info: TestStackInfo): void {
  fs.writeFileSync(stackFile, JSON.stringify(info, null, 2));
}

export function readStackInfo(): TestStackInfo {
  return JSON.parse(fs.readFileSync(stackFile, 'utf8')) as TestStackInfo;
}
