import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { KdfParams } from '../../src/secrets/envelope.js';
import type { PasswordKeyring } from '../../src/secrets/keyring.js';

/** Unit tests use a small scrypt cost so hundreds of derivations stay fast; e2e tests use the default. */
export const CHEAP_KDF: KdfParams = { name: 'scrypt', N: 1024, r: 8, p: 1 };

/** Temp folders removed after the file's tests. */
export function tempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'thv-secrets-'));
    made.push(dir);
    return dir;
  };
}

/** A keyring that remembers what it was given; never the real OS keyring. */
export function memoryKeyring(initial?: string): PasswordKeyring & { stored: string | undefined } {
  const keyring = {
    stored: initial,
    read: async () => keyring.stored,
    write: async (password: string) => {
      keyring.stored = password;
      return true;
    },
  };
  return keyring;
}

export const noKeyring: PasswordKeyring = { read: async () => undefined, write: async () => false };

export function refusePrompt(question: string): Promise<string> {
  throw new Error(`unexpected prompt: ${question}`);
}
