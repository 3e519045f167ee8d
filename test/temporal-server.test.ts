import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTemporalCli } from '../src/infra/temporal-cli';
import { startTemporalDevServer } from '../src/infra/temporal-server';

/**
 * The dev server picks its internal services' ports itself, so another process can take one
 * between its choice and its bind. A stand-in CLI loses that race on its first start, then runs the
 * real CLI: start-up is tried again on new ports. Any other start-up failure is not retried.
 */
describe('the Temporal dev server start-up', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcn-devserver-'));
  const warnings: string[] = [];
  const log = {
    info: () => undefined,
    warn: (_o: object, m?: string) => void warnings.push(m ?? ''),
    error: () => undefined,
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A CLI that fails its first `failures` starts with `line` in its output, then execs `then`. */
  const standIn = (name: string, line: string, failures: number, then: string): string => {
    const script = path.join(dir, name);
    const count = path.join(dir, `${name}.count`);
    fs.writeFileSync(
      script,
      `#!/bin/sh
n=$(cat "${count}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${count}"
if [ $n -le ${failures} ]; then echo '${line}'; exit 1; fi
exec ${then} "$@"
`,
      { mode: 0o755 },
    );
    return script;
  };
  const starts = (name: string) => Number(fs.readFileSync(path.join(dir, `${name}.count`), 'utf8'));

  it('tries again on new ports when one was taken, and the server it starts answers', async () => {
    const real = (await resolveTemporalCli(log)).path;
    const cli = standIn(
      'taken',
      '{"level":"ERROR","msg":"Failed to start gRPC listener","error":"listen tcp 127.0.0.1:1: bind: address already in use"}',
      1,
      real,
    );
    const server = await startTemporalDevServer({
      cliPath: cli,
      dbFile: path.join(dir, 'temporal.db'),
      namespace: 'default',
      ui: false,
      logFile: path.join(dir, 'server.log'),
      log,
    });
    try {
      expect(starts('taken')).toBe(2);
      expect(warnings).toContain('Temporal dev server start-up retried');
      const metrics = await fetch(server.metricsUrl);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE');
    } finally {
      await server.stop();
    }
  });

  it('does not retry a failure of another kind', async () => {
    const cli = standIn('broken', '{"level":"ERROR","msg":"unable to open database file"}', 5, '/bin/false');
    await expect(
      startTemporalDevServer({
        cliPath: cli,
        dbFile: path.join(dir, 'other.db'),
        namespace: 'default',
        ui: false,
        logFile: path.join(dir, 'other.log'),
        log,
      }),
    ).rejects.toThrow('exited during start-up');
    expect(starts('broken')).toBe(1);
  });
});
