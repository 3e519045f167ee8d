import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { projectRoot } from '../../src/infra/paths';

/**
 * The Chromium the browser tests drive: Debian's when CHROMIUM_PATH names it, otherwise the one
 * the @sparticuz/chromium package ships (brotli-packed inside the package, so it installs from the
 * npm registry like any dependency; no browser download). It unpacks on first use into this
 * worktree's .data, per package version, with a marker written only once the unpacking finished.
 */
export function chromiumExecutable(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const version = (
    JSON.parse(
      fs.readFileSync(
        path.join(projectRoot, 'node_modules', '@sparticuz', 'chromium', 'package.json'),
        'utf8',
      ),
    ) as { version: string }
  ).version;
  const dir = path.join(projectRoot, '.data', 'chromium', version);
  const exe = path.join(dir, 'chromium');
  const done = path.join(dir, '.unpacked');
  if (fs.existsSync(done) && fs.existsSync(exe)) return exe;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // The package unpacks into os.tmpdir(): a child process whose TMPDIR is that folder.
  const out = execFileSync(
    process.execPath,
    ['-e', "require('@sparticuz/chromium').executablePath().then((p) => process.stdout.write(p))"],
    { cwd: projectRoot, env: { ...process.env, TMPDIR: dir }, encoding: 'utf8', timeout: 120_000 },
  ).trim();
  if (path.resolve(out) !== exe) throw new Error(`chromium unpacked to ${out}, expected ${exe}`);
  fs.writeFileSync(done, new Date().toISOString());
  return exe;
}

export interface TestBrowser {
  context: BrowserContext;
  executablePath: string;
  version: string;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile, nothing phoned home, no sandbox (the tests run as root). */
export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = chromiumExecutable();
  // A fresh profile each launch, under the worktree's test data (never a shared temp folder).
  const profiles = path.join(projectRoot, '.data', 'test', 'browser-profiles');
  fs.mkdirSync(profiles, { recursive: true });
  const profile = fs.mkdtempSync(path.join(profiles, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1366, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--no-first-run',
      '--disable-gpu',
    ],
  });
  return {
    context,
    executablePath,
    version: context.browser()?.version() ?? 'unknown',
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
