/**
 * `node dist/scripts/bundle-workflows.js [file]` (run by `npm run build`, so at image build time):
 * the workflow bundle the worker loads instead of bundling its workflows with webpack at every
 * start (seconds of CPU and a few hundred MB at peak). Written to dist/workflow-bundle.js, where
 * the compiled worker looks for it (src/worker/create-worker.ts, `defaultWorkflowBundlePath`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { defaultWorkflowBundlePath, workflowsPath } from '../src/worker/create-worker';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? defaultWorkflowBundlePath);
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => console.warn(m),
      error: (m) => console.error(m),
    },
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  console.log(
    JSON.stringify({
      level: 'info',
      msg: 'workflow bundle written',
      file: out,
      from: workflowsPath,
      bytes: code.length,
      seconds: (Date.now() - started) / 1000,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
