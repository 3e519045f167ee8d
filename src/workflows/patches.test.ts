import fs from 'node:fs';
import path from 'node:path';

/**
 * Patch names come only from src/workflows/patches.ts (docs/patches.md): no other source file may
 * call Temporal's patched() or deprecatePatch(), or import them, under any name.
 */
const root = path.resolve(__dirname, '..', '..');
const PATCHES_MODULE = path.join('src', 'workflows', 'patches.ts');
const SKIP = new Set(['node_modules', '.data', 'dist', 'coverage', '.git']);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = path.join(dir, d.name);
    if (d.isDirectory()) return SKIP.has(d.name) ? [] : sourceFiles(rel);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(d.name) ? [rel] : [];
  });
}

const PATCH_FNS = '(?:patched|deprecatePatch)';
/** Calls (`patched(`, `wf.patched (`) and imports of either function from the workflow package. */
const USES = [
  new RegExp(`(?<![\\w$])${PATCH_FNS}\\s*\\(`),
  new RegExp(`\\.${PATCH_FNS}(?![\\w$])`),
  new RegExp(
    `import\\s*\\{[^}]*(?<![\\w$])${PATCH_FNS}(?![\\w$])[^}]*\\}\\s*from\\s*['"]@temporalio/workflow['"]`,
  ),
];
// Comments may name the functions (the rule has to be explained somewhere).
const withoutComments = (text: string): string =>
  text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

function patchUses(text: string): string[] {
  const code = withoutComments(text);
  return USES.flatMap((re) => code.match(re) ?? []);
}

describe('workflow patches', () => {
  const files = ['src', 'test', 'scripts', 'bench']
    .filter((d) => fs.existsSync(path.join(root, d)))
    .flatMap(sourceFiles);
  const rootFiles = fs.readdirSync(root).filter((f) => /\.(ts|js|mjs)$/.test(f));

  it('are used only through src/workflows/patches.ts', () => {
    const offenders = [...files, ...rootFiles]
      .filter((f) => f !== PATCHES_MODULE && f !== path.relative(root, __filename))
      .filter((f) => patchUses(fs.readFileSync(path.join(root, f), 'utf8')).length > 0);
    expect(offenders).toEqual([]);
  });

  it('finds a use wherever one is (the check can fail)', () => {
    // The patches module itself is among the files read, and its calls are found.
    expect(files).toContain(PATCHES_MODULE);
    expect(patchUses(fs.readFileSync(path.join(root, PATCHES_MODULE), 'utf8')).length).toBeGreaterThanOrEqual(
      2,
    );
    expect(files).toContain(path.join('src', 'workflows', 'card', 'card-workflow.ts'));
    for (const planted of [
      "if (patched('status-watermark')) x();",
      'if (wf.patched(NAME)) x();',
      "import { condition, patched as p } from '@temporalio/workflow';",
      "deprecatePatch ('x');",
    ])
      expect(patchUses(planted)).not.toEqual([]);
    for (const innocent of ["// patched('x') once", 'const unpatched = isPatched(name);', 'a.dispatched(1)'])
      expect(patchUses(innocent)).toEqual([]);
  });
});
