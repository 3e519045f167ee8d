import fs from 'node:fs';
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

/** The first port of the range the OS hands out to outgoing connections (Linux; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    const low = Number(
      fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return low > 1024 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A free port below the OS's ephemeral range (the preferred one when free), not in `exclude`: a
 * server that must come back on the same port after a restart under load cannot find it taken by
 * one of the many outgoing connections the OS numbers from that range meanwhile.
 */
export async function pickStablePort(
  preferred: number | undefined,
  exclude: ReadonlySet<number> = new Set(),
  host = '127.0.0.1',
): Promise<number> {
  if (preferred && !exclude.has(preferred) && (await tryListen(preferred, host))) return preferred;
  const low = 20_000;
  const high = Math.max(low + 1000, ephemeralLow());
  const start = low + Math.floor(Math.random() * (high - low));
  for (let i = 0; i < high - low; i++) {
    const port = low + ((start - low + i) % (high - low));
    if (exclude.has(port)) continue;
    if (await tryListen(port, host)) return port;
  }
  throw new Error(`no free TCP port on ${host} between ${low} and ${high}`);
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
