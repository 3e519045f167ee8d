/** Waiting for a Temporal cluster to serve: its frontend, then its search attributes. */
import type { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../workflows/search-attributes';
import { waitForPort } from './ports';

async function withConnection<T>(
  address: string,
  fn: (service: Connection['workflowService']) => Promise<T>,
): Promise<T> {
  const { Connection: Conn } = await import('@temporalio/client');
  const connection = await Conn.connect({ address, connectTimeout: 2_000 });
  try {
    return await fn(connection.workflowService);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Until the frontend answers GetSystemInfo (its port opens before its handlers serve). */
export async function waitForFrontend(
  address: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.split(':').pop())];
  await waitForPort(host, port, timeoutMs, signal);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) throw new Error(`stopped waiting for ${address}`);
    try {
      await withConnection(address, (s) => s.getSystemInfo({}));
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`the Temporal frontend at ${address} did not answer: ${String(err)}`, {
          cause: err,
        });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Until a visibility query on every custom search attribute is accepted in the namespace: the
 * namespace is in every service's registry and its attributes are mapped (SQL visibility keeps
 * them per namespace), so a card workflow that sets them can start.
 */
export async function waitForSearchAttributes(
  address: string,
  namespace: string,
  timeoutMs: number,
): Promise<void> {
  const query = SEARCH_ATTRIBUTE_DEFINITIONS.map((a) => `${a.name} = 'probe'`).join(' AND ');
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      await withConnection(address, (s) => s.countWorkflowExecutions({ namespace, query }));
      return;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`namespace ${namespace} at ${address} not ready for card workflows: ${String(lastErr)}`);
}
