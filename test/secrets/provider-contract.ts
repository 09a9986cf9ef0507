import { describe, expect, it } from 'vitest';
import { isThvError } from '../../src/core/errors.js';
import type { SecretsProvider } from '../../src/secrets/provider.js';

/** Builds a provider that already holds `seed` (read-only providers get it from their source). */
export type SeededProviderFactory = (seed: Record<string, string>) => Promise<SecretsProvider>;

const SEED: Record<string, string> = {
  GITHUB_TOKEN: 'ghp_example-value',
  'api.key-2': 'line one\nline two\n',
  __proto__name: 'not a prototype',
  unicode: 'pässwörd ✓ 🔑',
};

async function expectThvError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isThvError(err), `expected a ThvError, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  expect((err as Error).message).toMatch(message);
}

/** The behaviour every SecretsProvider promises (docs/secrets.md), written once. */
export function describeSecretsProviderContract(name: string, create: SeededProviderFactory): void {
  describe(`SecretsProvider contract: ${name}`, () => {
    it('returns each seeded value exactly, including newlines and non-ASCII text', async () => {
      const provider = await create(SEED);
      for (const [key, value] of Object.entries(SEED)) expect(await provider.get(key)).toBe(value);
    });

    it('returns undefined for a secret that does not exist', async () => {
      const provider = await create(SEED);
      expect(await provider.get('NOT_THERE')).toBeUndefined();
    });

    it('lists exactly the seeded names', async () => {
      const provider = await create(SEED);
      expect((await provider.list()).sort()).toEqual(Object.keys(SEED).sort());
    });

    it('treats names like __proto__ and constructor as ordinary names', async () => {
      // An object literal's __proto__ sets the prototype, so the seed defines it as a property.
      const seed: Record<string, string> = Object.defineProperty({ constructor: 'c' }, '__proto__', { value: 'p', enumerable: true });
      const provider = await create(seed);
      expect(await provider.get('__proto__')).toBe('p');
      expect(await provider.get('constructor')).toBe('c');
      expect(await provider.get('toString')).toBeUndefined();
      expect((await provider.list()).sort()).toEqual(['__proto__', 'constructor']);
    });

    it('refuses empty names and names with whitespace or "=" as a bad request', async () => {
      const provider = await create({});
      await expectThvError(provider.get(''), 'bad_request', /empty/);
      await expectThvError(provider.get('a b'), 'bad_request', /whitespace/);
      await expectThvError(provider.get('a=b'), 'bad_request', /=/);
    });

    it('describes what it can do consistently', async () => {
      const provider = await create({});
      expect(provider.capabilities.canRead).toBe(true);
      expect(provider.capabilities.canList).toBe(true);
      expect(provider.capabilities.canDelete).toBe(provider.capabilities.canWrite);
    });

    it('stores, overwrites and deletes a secret, or says clearly that it is read-only', async () => {
      const provider = await create(SEED);
      if (provider.capabilities.canWrite) {
        await provider.set('NEW', 'first');
        expect(await provider.get('NEW')).toBe('first');
        await provider.set('NEW', 'second');
        expect(await provider.get('NEW')).toBe('second');
        expect((await provider.list()).sort()).toEqual([...Object.keys(SEED), 'NEW'].sort());
        await provider.delete('NEW');
        expect(await provider.get('NEW')).toBeUndefined();
        expect((await provider.list()).sort()).toEqual(Object.keys(SEED).sort());
      } else {
        await expectThvError(provider.set('NEW', 'first'), 'bad_request', /read-only/);
        await expectThvError(provider.delete('GITHUB_TOKEN'), 'bad_request', /read-only/);
        expect(await provider.get('NEW')).toBeUndefined();
        expect(await provider.get('GITHUB_TOKEN')).toBe(SEED.GITHUB_TOKEN);
      }
    });

    it('leaves the other secrets alone when one changes (or fails to)', async () => {
      const provider = await create(SEED);
      const attempt = (p: Promise<void>) => (provider.capabilities.canWrite ? p : p.catch(() => undefined));
      await attempt(provider.set('GITHUB_TOKEN', 'rotated'));
      await attempt(provider.delete('unicode'));
      const expected = provider.capabilities.canWrite ? { ...SEED, GITHUB_TOKEN: 'rotated', unicode: undefined } : SEED;
      for (const [key, value] of Object.entries(expected)) expect(await provider.get(key)).toBe(value);
    });

    it('deleting a secret that does not exist is not an error (for a read-only provider: the read-only error)', async () => {
      const provider = await create(SEED);
      if (provider.capabilities.canDelete) await expect(provider.delete('NOT_THERE')).resolves.toBeUndefined();
      else await expectThvError(provider.delete('NOT_THERE'), 'bad_request', /read-only/);
      expect((await provider.list()).sort()).toEqual(Object.keys(SEED).sort());
    });
  });
}
