import fs from 'node:fs';
import path from 'node:path';
import { generateVaultKeySpec } from '../vault/vault';

/** VAULT_KEY from the environment, else the one kept in `<dir>/vault.key` (created, mode 600, if missing). */
export function ensureVaultKey(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): { key: string; source: 'env' | 'file' | 'generated' } {
  if (env.VAULT_KEY) return { key: env.VAULT_KEY, source: 'env' };
  const file = path.join(dir, 'vault.key');
  if (fs.existsSync(file)) return { key: fs.readFileSync(file, 'utf8').trim(), source: 'file' };
  fs.mkdirSync(dir, { recursive: true });
  const key = generateVaultKeySpec('k1');
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, source: 'generated' };
}
