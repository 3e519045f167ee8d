import net from 'node:net';
import { startHarness, type Harness } from './helpers/harness';
import { newTenant, type TestTenant } from './helpers/fixtures';

let h: Harness;
let t: TestTenant;
beforeAll(async () => {
  h = await startHarness();
  t = await newTenant(h);
});
afterAll(() => h.stop());

/**
 * Writes `chunks` on one raw TCP connection, as a pooling proxy would (several requests, one
 * socket), and collects what comes back until the server closes the connection, `until` holds or
 * `waitMs` passes.
 */
function onOneSocket(
  baseUrl: string,
  chunks: Array<string | Buffer>,
  opts: { until?: (text: string) => boolean; waitMs?: number } = {},
): Promise<{ text: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(received).toString('latin1'), closedByServer });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 15_000);
    socket.on('data', (d) => {
      received.push(d);
      if (opts.until?.(Buffer.concat(received).toString('latin1'))) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // The server may close while we are still writing the refused body: that is the point.
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      for (const c of chunks) if (!socket.destroyed) socket.write(c);
    });
  });
}

const answers = (text: string): string[] => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];

describe('a refused body never stalls the connection it came on', () => {
  const big = Buffer.alloc(1024 * 1024 + 4096, 'a');
  const chunked = (path: string): Buffer =>
    Buffer.concat([
      Buffer.from(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.appKey}\r\n` +
          `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      ),
      Buffer.from(`${big.length.toString(16)}\r\n`),
      big,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
  const next = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';

  it('a chunked body over the limit → 413 with Connection: close, and the socket is closed', async () => {
    const r = await onOneSocket(h.baseUrl, [chunked('/v1/users'), next]);
    expect(answers(r.text)[0]).toBe('HTTP/1.1 413');
    expect(r.text).toMatch(/^connection: close\r$/im);
    expect(r.text).toContain('PAYLOAD_TOO_LARGE');
    // The client learns at once that the connection is gone (and retries elsewhere) instead of waiting.
    expect(r.closedByServer).toBe(true);
    expect(answers(r.text)).toHaveLength(1);
  });

  it('a declared Content-Length over the limit → 413 with Connection: close, and the socket is closed', async () => {
    const head =
      `POST /v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.appKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`;
    const r = await onOneSocket(h.baseUrl, [head, big.subarray(0, 1000)]);
    expect(answers(r.text)[0]).toBe('HTTP/1.1 413');
    expect(r.text).toMatch(/^connection: close\r$/im);
    expect(r.closedByServer).toBe(true);
  });

  it('a request within the limit keeps its connection alive for the next one', async () => {
    const r = await onOneSocket(h.baseUrl, [next, next], {
      until: (text) => (text.match(/"status":"ok"/g) ?? []).length === 2,
    });
    expect(answers(r.text)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(r.text).not.toMatch(/^connection: close\r$/im);
  });
});
