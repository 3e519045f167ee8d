import os from 'node:os';
import path from 'node:path';

/** Repository root (this file lives in src/infra). */
export const projectRoot = path.resolve(__dirname, '..', '..');

/** Where local state lives: PostgreSQL data, Temporal's SQLite file, logs, credentials. */
export function dataDir(): string {
  return process.env.VCN_DATA_DIR ? path.resolve(process.env.VCN_DATA_DIR) : path.join(projectRoot, '.data');
}

/**
 * The user's cache directory (outside the clone), shared by every clone and CI run on the machine.
 * Follows XDG on Linux; ~/Library/Caches on macOS.
 */
export function userCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'vcn-platform');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'vcn-platform');
  return path.join(os.homedir(), '.cache', 'vcn-platform');
}
