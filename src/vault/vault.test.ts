import { generateVaultKeySpec, parseVaultKey, Vault } from './vault';

describe('vault (AES-256-GCM)', () => {
  const spec = generateVaultKeySpec('k1');

  it('round-trips and binds the ciphertext to its tenant and card', () => {
    const v = new Vault(spec);
    const sealed = v.seal(Buffer.from('4000001234567899'), 'card:ten_a:card_1');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.ciphertext.toString('utf8').includes('4000001234567899')).toBe(false);
    expect(v.open(sealed, 'card:ten_a:card_1').toString()).toBe('4000001234567899');
    expect(() => v.open(sealed, 'card:ten_b:card_1')).toThrow();
  });

  it('detects tampering', () => {
    const v = new Vault(spec);
    const sealed = v.seal(Buffer.from('secret'), 'aad');
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] = flipped[0]! ^ 1;
    expect(() => v.open({ ...sealed, ciphertext: flipped }, 'aad')).toThrow();
  });

  it('uses a fresh IV every time', () => {
    const v = new Vault(spec);
    const a = v.seal(Buffer.from('same'), 'x');
    const b = v.seal(Buffer.from('same'), 'x');
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it('rotates: a new active key encrypts, the old one still decrypts', () => {
    const old = new Vault(spec);
    const sealed = old.seal(Buffer.from('pan'), 'aad');
    const rotated = new Vault(`${generateVaultKeySpec('k2')},${spec}`);
    expect(rotated.activeKeyId).toBe('k2');
    expect(rotated.open(sealed, 'aad').toString()).toBe('pan');
    expect(rotated.seal(Buffer.from('pan'), 'aad').keyId).toBe('k2');
    expect(() => new Vault(generateVaultKeySpec('k3')).open(sealed, 'aad')).toThrow(/k1 is not configured/);
  });

  it('round-trips small secrets in string form', () => {
    const v = new Vault(spec);
    const s = v.sealString('whsec_abc', 'sub');
    expect(s.startsWith('v1:k1:')).toBe(true);
    expect(v.openString(s, 'sub')).toBe('whsec_abc');
  });

  it('refuses malformed keys', () => {
    expect(() => parseVaultKey('k1:short')).toThrow(/32 bytes/);
    expect(() => parseVaultKey('')).toThrow(/empty/);
    expect(parseVaultKey(Buffer.alloc(32, 7).toString('base64')).activeKeyId).toBe('k1');
  });
});
