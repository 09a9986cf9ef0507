import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isThvError } from '../../src/core/errors.js';
import { DEFAULT_KDF, deriveKey, openEnvelope, parseEnvelope, sealEnvelope, type DerivedKey } from '../../src/secrets/envelope.js';
import { CHEAP_KDF } from './helpers.js';

const FILE = '/tmp/secrets_encrypted';
const ENTRIES = new Map([
  ['GITHUB_TOKEN', 'ghp_valuevaluevalue'],
  ['__thv_auth_REGISTRY_OAUTH_0123abcd', 'refresh-token-value'],
]);

/** Decrypts with `password`, or returns the ThvError code it fails with. */
async function outcome(bytes: Buffer, password: string, cached?: DerivedKey): Promise<Map<string, string> | string> {
  try {
    const envelope = parseEnvelope(bytes, FILE);
    const key = cached && cached.salt.equals(envelope.salt) && cached.kdf.N === envelope.kdf.N && cached.kdf.r === envelope.kdf.r && cached.kdf.p === envelope.kdf.p
      ? cached
      : await deriveKey(password, envelope.kdf, envelope.salt);
    return openEnvelope(envelope, key, FILE);
  } catch (err) {
    if (isThvError(err)) return err.code;
    throw err;
  }
}

describe('the encrypted secrets file format', () => {
  it('round-trips the whole map and shows no name or value in the file', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const bytes = sealEnvelope(ENTRIES, key);
    expect(await outcome(bytes, 'pw')).toEqual(ENTRIES);
    const text = bytes.toString('latin1');
    for (const [name, value] of ENTRIES) {
      expect(text).not.toContain(name);
      expect(text).not.toContain(value);
    }
    expect(text).not.toContain('__thv_');
    expect(JSON.parse(text)).toMatchObject({ format: 'thv-secrets', version: 1, kdf: CHEAP_KDF });
  });

  it('uses a fresh nonce on every write, so the same map never encrypts to the same bytes', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const nonces = new Set(Array.from({ length: 20 }, () => (JSON.parse(sealEnvelope(ENTRIES, key).toString()) as { nonce: string }).nonce));
    expect(nonces.size).toBe(20);
  });

  it('derives a different key for each new store (random salt)', async () => {
    const [a, b] = await Promise.all([deriveKey('pw', CHEAP_KDF), deriveKey('pw', CHEAP_KDF)]);
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.key.equals(b.key)).toBe(false);
  });

  it('says "wrong password" (secrets_locked) for a wrong password, and returns no data', async () => {
    const bytes = sealEnvelope(ENTRIES, await deriveKey('right', CHEAP_KDF));
    expect(await outcome(bytes, 'wrong')).toBe('secrets_locked');
  });

  it('rejects every truncation of the file as secrets_corrupt', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const bytes = sealEnvelope(ENTRIES, key);
    for (let length = 0; length < bytes.length; length++) {
      expect(await outcome(bytes.subarray(0, length), 'pw', key), `length ${length}`).toBe('secrets_corrupt');
    }
  });

  it('never returns data from a file with any single bit flipped, anywhere', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const bytes = sealEnvelope(ENTRIES, key);
    const accepted: string[] = [];
    for (let at = 0; at < bytes.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Buffer.from(bytes);
        tampered[at] = tampered[at]! ^ (1 << bit);
        const result = await outcome(tampered, 'pw', key);
        if (result !== 'secrets_corrupt' && result !== 'secrets_locked') accepted.push(`byte ${at} bit ${bit}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('never returns data from a file with any byte replaced by any other value', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const bytes = sealEnvelope(ENTRIES, key);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const tampered = Buffer.from(bytes);
        tampered[at] = tampered[at]! ^ xor;
        expect(['secrets_corrupt', 'secrets_locked']).toContain(await outcome(tampered, 'pw', key));
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts an edited name or value inside a well-formed file', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const doc = JSON.parse(sealEnvelope(ENTRIES, key).toString()) as Record<string, string>;
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (pos, xor) => {
        const ct = Buffer.from(doc.ciphertext!, 'base64');
        ct[pos % ct.length] = ct[pos % ct.length]! ^ xor;
        expect(await outcome(Buffer.from(JSON.stringify({ ...doc, ciphertext: ct.toString('base64') })), 'pw', key)).toBe('secrets_corrupt');
      }),
      { numRuns: 200 },
    );
  });

  it('flags a modified ciphertext with the right password as modified (secrets_corrupt), not as a wrong password', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const doc = JSON.parse(sealEnvelope(ENTRIES, key).toString()) as Record<string, string>;
    const ct = Buffer.from(doc.ciphertext!, 'base64');
    ct[3] = ct[3]! ^ 1;
    const tampered = Buffer.from(JSON.stringify({ ...doc, ciphertext: ct.toString('base64') }));
    expect(await outcome(tampered, 'pw')).toBe('secrets_corrupt');
  });

  it('refuses key-derivation parameters that would exhaust memory before deriving anything', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const doc = JSON.parse(sealEnvelope(ENTRIES, key).toString()) as Record<string, unknown>;
    for (const kdf of [{ name: 'scrypt', N: 2 ** 20, r: 32, p: 1 }, { name: 'scrypt', N: 1000, r: 8, p: 1 }, { name: 'argon2', N: 1024, r: 8, p: 1 }]) {
      const bytes = Buffer.from(JSON.stringify({ ...doc, kdf }));
      expect(() => parseEnvelope(bytes, FILE)).toThrowError(/key-derivation parameters/);
    }
  });

  it('refuses a file from a future format version with a clear message', async () => {
    const key = await deriveKey('pw', CHEAP_KDF);
    const doc = JSON.parse(sealEnvelope(ENTRIES, key).toString()) as Record<string, unknown>;
    expect(() => parseEnvelope(Buffer.from(JSON.stringify({ ...doc, version: 2 })), FILE)).toThrowError(/format version 2/);
  });

  it('the default key derivation is memory-hard (at least 32 MiB) and runs with the default limits', async () => {
    // Its speed is a benchmark matter, not a test's; here only that the parameters are usable.
    expect(DEFAULT_KDF.N * DEFAULT_KDF.r * 128).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    expect((await deriveKey('a password', DEFAULT_KDF)).key).toHaveLength(32);
  });
});
