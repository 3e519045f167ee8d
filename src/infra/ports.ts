import net from 'node:net';

function tryListen(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** The preferred port when it is free on `host`, otherwise a free port chosen by the OS. */
export async function pickPort(preferred: number | undefined, host = '127.0.0.1'): Promise<number> {
  if (preferred) {
    const port = await tryListen(preferred, host);
    if (port) return port;
  }
  const port = await tryListen(0, host);
  if (!port) throw new Error(`no free TCP port on ${host}`);
  return port;
}

/**
 * Resolves once something accepts TCP connections on host:port, or rejects after `timeoutMs`
 * (or as soon as `signal` aborts: the caller stopped waiting).
 */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error(`stopped waiting for ${host}:${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
