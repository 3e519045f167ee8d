import crypto from 'node:crypto';

/**
 * Card-number encryption: AES-256-GCM with a 96-bit random IV per entry, additional authenticated
 * data binding each ciphertext to its tenant and card, and a key id stored beside it so keys can
 * rotate (the first key in VAULT_KEY encrypts; every listed key decrypts).
 *
 * VAULT_KEY: `<keyId>:<base64 32 bytes>[,<keyId>:<base64 32 bytes>...]`, or one bare base64 key
 * (key id `k1`).
 */
export interface Keyring {
  activeKeyId: string;
  keys: Map<string, Buffer>;
}

export function parseVaultKey(spec: string): Keyring {
  const keys = new Map<string, Buffer>();
  let activeKeyId = '';
  for (const [i, part] of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .entries()) {
    const sep = part.indexOf(':');
    const keyId = sep > 0 ? part.slice(0, sep) : `k${i + 1}`;
    const key = Buffer.from(sep > 0 ? part.slice(sep + 1) : part, 'base64');
    if (key.length !== 32) throw new Error(`VAULT_KEY entry ${keyId} must be 32 bytes of base64`);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(keyId)) throw new Error(`VAULT_KEY key id ${keyId} is not valid`);
    keys.set(keyId, key);
    if (!activeKeyId) activeKeyId = keyId;
  }
  if (!activeKeyId) throw new Error('VAULT_KEY is empty');
  return { activeKeyId, keys };
}

export function generateVaultKeySpec(keyId = 'k1'): string {
  return `${keyId}:${crypto.randomBytes(32).toString('base64')}`;
}

export interface Sealed {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  authTag: Buffer;
}

export class Vault {
  private readonly keyring: Keyring;
  constructor(spec: string) {
    this.keyring = parseVaultKey(spec);
  }

  get activeKeyId(): string {
    return this.keyring.activeKeyId;
  }

  /**
   * A secret derived from the active key for `label` (hex): for credentials both the API and the
   * worker must know without storing them (the sandbox partner's per-program API key).
   */
  deriveSecret(label: string): string {
    const key = this.keyring.keys.get(this.keyring.activeKeyId)!;
    return crypto.createHmac('sha256', key).update(`derived\u0000${label}`).digest('hex');
  }

  seal(plaintext: Buffer, aad: string): Sealed {
    const keyId = this.keyring.activeKeyId;
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.keyring.keys.get(keyId)!, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { keyId, iv, ciphertext, authTag: cipher.getAuthTag() };
  }

  open(sealed: Sealed, aad: string): Buffer {
    const key = this.keyring.keys.get(sealed.keyId);
    if (!key) throw new Error(`vault key ${sealed.keyId} is not configured`);
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  }

  /** Compact string form for small secrets kept in ordinary columns (webhook signing secrets). */
  sealString(value: string, aad: string): string {
    const s = this.seal(Buffer.from(value, 'utf8'), aad);
    return [
      'v1',
      s.keyId,
      s.iv.toString('base64'),
      s.authTag.toString('base64'),
      s.ciphertext.toString('base64'),
    ].join(':');
  }

  openString(sealed: string, aad: string): string {
    const [version, keyId, iv, tag, ct] = sealed.split(':');
    if (version !== 'v1' || !keyId || !iv || !tag || !ct) throw new Error('malformed sealed value');
    return this.open(
      {
        keyId,
        iv: Buffer.from(iv, 'base64'),
        authTag: Buffer.from(tag, 'base64'),
        ciphertext: Buffer.from(ct, 'base64'),
      },
      aad,
    ).toString('utf8');
  }
}

export interface CardSecret {
  number: string;
  cvc: string;
}

export const cardAad = (tenantId: string, cardId: string): string => `card:${tenantId}:${cardId}`;
