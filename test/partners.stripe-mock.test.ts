/**
 * stripe-mock is found like the Temporal CLI (STRIPE_MOCK_PATH, PATH, the user cache, else built
 * with go install into that cache) and listens on loopback only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  resolveStripeMock,
  startStripeMock,
  STRIPE_MOCK_VERSION,
  stripeMockCacheDir,
} from '../src/infra/stripe-mock';

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('stripe-mock resolution and start', () => {
  const saved = { STRIPE_MOCK_PATH: process.env.STRIPE_MOCK_PATH, PATH: process.env.PATH };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('takes STRIPE_MOCK_PATH first, and says so when it is no executable', async () => {
    const built = await resolveStripeMock(log);
    process.env.STRIPE_MOCK_PATH = built.path;
    expect(await resolveStripeMock(log)).toEqual({ path: built.path, source: 'STRIPE_MOCK_PATH' });
    const notExecutable = path.join(os.tmpdir(), `stripe-mock-${process.pid}.txt`);
    fs.writeFileSync(notExecutable, 'no binary');
    process.env.STRIPE_MOCK_PATH = notExecutable;
    await expect(resolveStripeMock(log)).rejects.toThrow(/STRIPE_MOCK_PATH=.* is not an executable file/);
    fs.rmSync(notExecutable);
  }, 300_000);

  it('finds a copy on PATH before the cache, and the pinned version in the user cache (outside the clone)', async () => {
    delete process.env.STRIPE_MOCK_PATH;
    const built = await resolveStripeMock(log);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stripe-mock-path-'));
    fs.symlinkSync(built.path, path.join(dir, 'stripe-mock'));
    process.env.PATH = `${dir}${path.delimiter}${saved.PATH ?? ''}`;
    expect(await resolveStripeMock(log)).toEqual({ path: path.join(dir, 'stripe-mock'), source: 'PATH' });
    process.env.PATH = '/usr/bin:/bin';
    const cached = await resolveStripeMock(log);
    expect(cached).toEqual({
      path: path.join(stripeMockCacheDir(), STRIPE_MOCK_VERSION, 'stripe-mock'),
      source: 'cache',
    });
    expect(cached.path.startsWith(path.resolve(__dirname, '..'))).toBe(false);
    fs.rmSync(dir, { recursive: true });
  }, 300_000);

  it('listens for HTTP and HTTPS on loopback only, on ports the OS picked, and stops', async () => {
    const { path: binary } = await resolveStripeMock(log);
    const mock = await startStripeMock({ binary, log });
    try {
      expect(mock.url).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
      expect(mock.httpsAddress).toMatch(/^127\.0\.0\.1:[0-9]+$/);
      expect(mock.httpsAddress).not.toBe('127.0.0.1:12112');
      const res = await fetch(`${mock.url}/v1/issuing/cards/ic_1`, {
        headers: { authorization: 'Bearer sk_test_1' },
      });
      expect(res.status).toBe(200);
    } finally {
      await mock.stop();
    }
    await expect(fetch(`${mock.url}/v1/issuing/cards/ic_1`)).rejects.toThrow();
  }, 300_000);
});
