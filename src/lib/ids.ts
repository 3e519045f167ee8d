import crypto from 'node:crypto';
import { ID_PREFIX, type IdKind } from '../domain/ids';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function timePart(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** A new public id: prefix, then a time part (so ids sort by creation) and 80 random bits. */
export function newId(kind: IdKind, nowMs = Date.now()): string {
  return `${ID_PREFIX[kind]}_${timePart(nowMs)}${base32(crypto.randomBytes(10), 16)}`;
}

/** A deterministic id derived from a scope and a key: retries of one request name the same object. */
export function derivedId(kind: IdKind, ...parts: string[]): string {
  const digest = crypto.createHash('sha256').update(parts.join('\u0000')).digest();
  return `${ID_PREFIX[kind]}_${base32(digest, 26)}`;
}

export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

export function sha256Hex(value: string | Buffer): string {
  return crypto.createHash('sha256').update(value).digest('hex');
}
