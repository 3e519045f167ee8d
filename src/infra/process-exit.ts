/**
 * Runs `fn` (synchronous: signals only) when this process exits with the server still up: a last
 * resort, since a detached server outlives its parent. Orderly stops are the stack's. Returns the
 * function that cancels it.
 */
export function onProcessExit(fn: () => void): () => void {
  const listener = (): void => {
    try {
      fn();
    } catch {
      // exiting anyway
    }
  };
  process.once('exit', listener);
  return () => void process.off('exit', listener);
}
