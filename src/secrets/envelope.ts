import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ThvError } from '../core/errors.js';

/**
 * The on-disk format of the encrypted secrets store (docs/secrets.md), one compact JSON object:
 *
 *   {"format":"thv-secrets","version":1,"kdf":{"name":"scrypt","N":32768,"r":8,"p":1},
 *    "salt":b64,"check":b64,"nonce":b64,"ciphertext":b64}
 *
 * The whole secret map (names and values) is the AES-256-GCM plaintext; `ciphertext` ends with the
 * 16-byte tag and the header before `nonce` is the additional authenticated data. `check` is a hash
 * of a second key derived alongside the encryption key, so a wrong password is told apart from a
 * modified file. The file must be byte-for-byte the canonical serialisation of what it parses to,
 * so no edit (whitespace, a non-canonical base64 character) goes unnoticed.
 */
export const FORMAT = 'thv-secrets';
export const FORMAT_VERSION = 1;

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
}

/** 32 MiB of memory and well under 100 ms on a laptop: a CLI command pays it once. */
export const DEFAULT_KDF: KdfParams = { name: 'scrypt', N: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;

/** scrypt needs about 128·N·r bytes; a hostile file must not make us allocate more than this. */
const MAX_KDF_MEMORY = 256 * 1024 * 1024;

/** Bounds keep a hostile file from asking for gigabytes of memory or minutes of CPU. */
const kdfSchema = z
  .strictObject({
    name: z.literal('scrypt'),
    N: z.number().int().min(2 ** 10).max(2 ** 20).refine(isPowerOfTwo, 'N must be a power of two'),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(4),
  })
  .refine((k) => 128 * k.N * k.r <= MAX_KDF_MEMORY, 'N·r asks for too much memory');

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

const envelopeSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.number().int(),
  kdf: z.unknown(),
  salt: base64,
  check: base64,
  nonce: base64,
  ciphertext: base64,
});

export interface Envelope {
  kdf: KdfParams;
  salt: Buffer;
  check: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

/** What a password turns into for one salt: the AES key and the verifier stored as `check`. */
export interface DerivedKey {
  kdf: KdfParams;
  salt: Buffer;
  key: Buffer;
  check: Buffer;
}

export async function deriveKey(password: string, kdf: KdfParams = DEFAULT_KDF, salt: Buffer = randomBytes(SALT_BYTES)): Promise<DerivedKey> {
  const material = await new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES * 2, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: MAX_KDF_MEMORY + 16 * 1024 * 1024 }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
  });
  const key = material.subarray(0, KEY_BYTES);
  const check = createHash('sha256').update(material.subarray(KEY_BYTES)).digest();
  return { kdf: { ...kdf }, salt, key, check };
}

export function sameSaltAndKdf(a: DerivedKey, e: Envelope): boolean {
  return a.salt.equals(e.salt) && a.kdf.N === e.kdf.N && a.kdf.r === e.kdf.r && a.kdf.p === e.kdf.p;
}

/** Throws `secrets_corrupt` for anything that is not exactly a file this module wrote. */
export function parseEnvelope(bytes: Buffer, file: string): Envelope {
  const corrupt = (why: string) =>
    new ThvError('secrets_corrupt', `the secrets file ${file} cannot be read: ${why}`, {
      hint: `Restore it from a backup, or move it away and run \`thv secret setup\` to start a new, empty store.`,
    });
  if (bytes.length === 0) throw corrupt('it is empty');
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw corrupt('it is truncated or not a thv secrets file');
  }
  const outer = envelopeSchema.safeParse(raw);
  if (!outer.success) throw corrupt('it is not a thv secrets file');
  if (outer.data.version !== FORMAT_VERSION) {
    throw corrupt(`it has format version ${outer.data.version}, and this thv reads version ${FORMAT_VERSION}`);
  }
  const kdf = kdfSchema.safeParse(outer.data.kdf);
  if (!kdf.success) throw corrupt('its key-derivation parameters are invalid');
  const envelope: Envelope = {
    kdf: kdf.data,
    salt: Buffer.from(outer.data.salt, 'base64'),
    check: Buffer.from(outer.data.check, 'base64'),
    nonce: Buffer.from(outer.data.nonce, 'base64'),
    ciphertext: Buffer.from(outer.data.ciphertext, 'base64'),
  };
  if (envelope.salt.length !== SALT_BYTES || envelope.nonce.length !== NONCE_BYTES || envelope.check.length !== 32 || envelope.ciphertext.length < TAG_BYTES) {
    throw corrupt('a field has the wrong length');
  }
  if (!serialiseEnvelope(envelope).equals(bytes)) throw corrupt('it was edited or damaged');
  return envelope;
}

/**
 * Decrypts the secret map. A wrong password is `secrets_locked`; a right password with a failing
 * GCM tag means the file was modified (`secrets_corrupt`). Never returns unauthenticated data.
 */
export function openEnvelope(envelope: Envelope, derived: DerivedKey, file: string): Map<string, string> {
  assertPasswordMatches(envelope, derived, file);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', derived.key, envelope.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(headerBytes(envelope));
    decipher.setAuthTag(envelope.ciphertext.subarray(envelope.ciphertext.length - TAG_BYTES));
    plaintext = Buffer.concat([decipher.update(envelope.ciphertext.subarray(0, envelope.ciphertext.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new ThvError('secrets_corrupt', `the secrets file ${file} was modified or damaged: it fails its integrity check`, {
      hint: 'Restore it from a backup, or move it away and run `thv secret setup` to start a new, empty store.',
    });
  }
  return decodeEntries(plaintext, file);
}

/** Throws `secrets_locked` unless `derived` came from the password this store was made with. */
export function assertPasswordMatches(envelope: Envelope, derived: DerivedKey, file: string): void {
  if (timingSafeEqual(derived.check, envelope.check)) return;
  throw new ThvError('secrets_locked', `the secrets password does not unlock ${file} (wrong password, or the file was modified)`, {
    hint: 'Check the password in the OS keyring or in TOOLHIVE_SECRETS_PASSWORD. If it is lost, move the file away and run `thv secret setup` to start a new, empty store.',
  });
}

/** A fresh random nonce on every call: one key never encrypts twice under the same nonce. */
export function sealEnvelope(entries: Map<string, string>, derived: DerivedKey): Buffer {
  const header = { kdf: derived.kdf, salt: derived.salt, check: derived.check };
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', derived.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(headerBytes(header));
  const body = Buffer.concat([cipher.update(encodeEntries(entries)), cipher.final(), cipher.getAuthTag()]);
  return serialiseEnvelope({ ...header, nonce, ciphertext: body });
}

function headerBytes(h: Pick<Envelope, 'kdf' | 'salt' | 'check'>): Buffer {
  return Buffer.from(
    JSON.stringify({ format: FORMAT, version: FORMAT_VERSION, kdf: canonicalKdf(h.kdf), salt: h.salt.toString('base64'), check: h.check.toString('base64') }),
  );
}

function serialiseEnvelope(e: Envelope): Buffer {
  return Buffer.from(
    JSON.stringify({
      format: FORMAT,
      version: FORMAT_VERSION,
      kdf: canonicalKdf(e.kdf),
      salt: e.salt.toString('base64'),
      check: e.check.toString('base64'),
      nonce: e.nonce.toString('base64'),
      ciphertext: e.ciphertext.toString('base64'),
    }),
  );
}

function canonicalKdf(k: KdfParams): KdfParams {
  return { name: k.name, N: k.N, r: k.r, p: k.p };
}

// Pairs, not an object: a secret called `__proto__` must be an ordinary name.
const entriesSchema = z.strictObject({ entries: z.array(z.tuple([z.string(), z.string()])) });

function encodeEntries(entries: Map<string, string>): Buffer {
  return Buffer.from(JSON.stringify({ entries: [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) }));
}

function decodeEntries(plaintext: Buffer, file: string): Map<string, string> {
  try {
    return new Map(entriesSchema.parse(JSON.parse(plaintext.toString('utf8'))).entries);
  } catch {
    throw new ThvError('secrets_corrupt', `the secrets file ${file} decrypts to data this thv does not understand`, {
      hint: 'It may come from a newer thv; otherwise move it away and run `thv secret setup`.',
    });
  }
}
