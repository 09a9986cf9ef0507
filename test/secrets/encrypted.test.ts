import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ThvError } from '../../src/core/errors.js';
import { EncryptedSecretsProvider, type PasswordGetter } from '../../src/secrets/encrypted.js';
import { CHEAP_KDF, tempDirs } from './helpers.js';

const newDir = tempDirs();

function countingPassword(password: string): PasswordGetter & { calls: Array<{ creating: boolean }> } {
  const calls: Array<{ creating: boolean }> = [];
  return Object.assign(async (purpose: { creating: boolean }) => {
    calls.push(purpose);
    return password;
  }, { calls });
}

async function storeWith(password: string, entries: Record<string, string>) {
  const file = join(await newDir(), 'toolhive', 'secrets_encrypted');
  const provider = new EncryptedSecretsProvider({ file, password: async () => password, kdf: CHEAP_KDF });
  for (const [k, v] of Object.entries(entries)) await provider.set(k, v);
  return { file, provider };
}

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ThvError);

describe('the encrypted secrets provider', () => {
  it('writes the file owner-only (0600) in an owner-only folder', async () => {
    const { file } = await storeWith('pw', { A: '1' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(file, '..'))).mode & 0o777).toBe(0o700);
  });

  it('reads a missing store as empty without asking for a password', async () => {
    const password = countingPassword('pw');
    const provider = new EncryptedSecretsProvider({ file: join(await newDir(), 'secrets_encrypted'), password, kdf: CHEAP_KDF });
    expect(await provider.list()).toEqual([]);
    expect(await provider.get('A')).toBeUndefined();
    expect(password.calls).toEqual([]);
  });

  it('asks for the password once per process, however many operations follow', async () => {
    const { file } = await storeWith('pw', { A: '1' });
    const password = countingPassword('pw');
    const provider = new EncryptedSecretsProvider({ file, password, kdf: CHEAP_KDF });
    await provider.unlock();
    await provider.set('B', '2');
    await provider.get('A');
    await provider.list();
    await provider.delete('A');
    expect(password.calls).toEqual([{ creating: false }]);
  });

  it('tells the password source when the password will protect a new store', async () => {
    const password = countingPassword('pw');
    const provider = new EncryptedSecretsProvider({ file: join(await newDir(), 'secrets_encrypted'), password, kdf: CHEAP_KDF });
    await provider.unlock();
    await provider.set('A', '1');
    expect(password.calls).toEqual([{ creating: true }]);
  });

  it('refuses a wrong password with secrets_locked and leaves the file byte-identical', async () => {
    const { file } = await storeWith('right', { A: '1' });
    const before = await readFile(file);
    const wrong = new EncryptedSecretsProvider({ file, password: async () => 'wrong', kdf: CHEAP_KDF });
    for (const attempt of [() => wrong.set('B', '2'), () => wrong.delete('A'), () => wrong.get('A'), () => wrong.list(), () => wrong.unlock()]) {
      const err = await rejection(attempt());
      expect(err).toBeInstanceOf(ThvError);
      expect(err?.code).toBe('secrets_locked');
      expect(err?.message).toMatch(/wrong password, or the file was modified/);
      expect(err?.hint).toMatch(/TOOLHIVE_SECRETS_PASSWORD/);
    }
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('refuses a truncated file with secrets_corrupt and never overwrites it', async () => {
    const { file } = await storeWith('pw', { A: '1' });
    const truncated = (await readFile(file)).subarray(0, 40);
    await writeFile(file, truncated);
    const provider = new EncryptedSecretsProvider({ file, password: async () => 'pw', kdf: CHEAP_KDF });
    for (const attempt of [() => provider.set('B', '2'), () => provider.get('A'), () => provider.delete('A')]) {
      const err = await rejection(attempt());
      expect(err?.code).toBe('secrets_corrupt');
      expect(err?.message).toContain(file);
    }
    expect((await readFile(file)).equals(truncated)).toBe(true);
  });

  it('does not write when deleting a secret that is not there', async () => {
    const { file, provider } = await storeWith('pw', { A: '1' });
    const before = await readFile(file);
    await provider.delete('NOT_THERE');
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('keeps every key when two writers change different keys at the same time', async () => {
    const { file } = await storeWith('pw', { START: '0' });
    const writerA = new EncryptedSecretsProvider({ file, password: async () => 'pw', kdf: CHEAP_KDF });
    const writerB = new EncryptedSecretsProvider({ file, password: async () => 'pw', kdf: CHEAP_KDF });
    const names = Array.from({ length: 8 }, (_, i) => i);
    await Promise.all([...names.map((i) => writerA.set(`A${i}`, `a${i}`)), ...names.map((i) => writerB.set(`B${i}`, `b${i}`))]);
    const reader = new EncryptedSecretsProvider({ file, password: async () => 'pw', kdf: CHEAP_KDF });
    expect(await reader.list()).toEqual(['START', ...names.map((i) => `A${i}`), ...names.map((i) => `B${i}`)].sort());
  });

  it('creates nothing when no password can be had', async () => {
    const dir = await newDir();
    const file = join(dir, 'secrets_encrypted');
    const provider = new EncryptedSecretsProvider({
      file,
      password: async () => {
        throw new ThvError('secrets_unavailable', 'no password');
      },
      kdf: CHEAP_KDF,
    });
    expect((await rejection(provider.set('A', '1')))?.code).toBe('secrets_unavailable');
    expect(await stat(file).catch(() => 'missing')).toBe('missing');
  });

  it('initialize creates an empty store, then only checks the password', async () => {
    const file = join(await newDir(), 'secrets_encrypted');
    const provider = new EncryptedSecretsProvider({ file, password: async () => 'pw', kdf: CHEAP_KDF });
    expect(await provider.initialize()).toEqual({ created: true });
    await provider.set('A', '1');
    expect(await new EncryptedSecretsProvider({ file, password: async () => 'pw' }).initialize()).toEqual({ created: false });
    expect((await rejection(new EncryptedSecretsProvider({ file, password: async () => 'nope' }).initialize()))?.code).toBe('secrets_locked');
    expect(await provider.get('A')).toBe('1');
  });
});
