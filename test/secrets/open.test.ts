import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/core/paths.js';
import { ConfigStore } from '../../src/config/store.js';
import { openSecretsProvider, secretsProviderType, setupSecrets } from '../../src/secrets/index.js';
import { CHEAP_KDF, memoryKeyring, noKeyring, refusePrompt, tempDirs } from './helpers.js';

const newDir = tempDirs();

async function home() {
  const root = await newDir();
  const env: NodeJS.ProcessEnv = { HOME: root, XDG_CONFIG_HOME: join(root, 'config'), XDG_DATA_HOME: join(root, 'data'), XDG_STATE_HOME: join(root, 'state'), XDG_CACHE_HOME: join(root, 'cache') };
  return { env, paths: resolvePaths(env) };
}

const exists = (file: string) => stat(file).then(() => true, () => false);

describe('choosing the secrets provider', () => {
  it('uses the encrypted provider when config says nothing', async () => {
    const { env, paths } = await home();
    const provider = await openSecretsProvider({ paths, env: { ...env, TOOLHIVE_SECRETS_PASSWORD: 'pw' }, config: {}, interactive: false, keyring: noKeyring, kdf: CHEAP_KDF });
    expect(provider.type).toBe('encrypted');
    await provider.set('A', '1');
    expect(await exists(paths.secretsFile)).toBe(true);
    expect(secretsProviderType({ secrets: { provider_type: '' } }, {})).toBe('encrypted');
  });

  it('uses the environment provider when config selects it, reading TOOLHIVE_SECRET_<NAME>', async () => {
    const { env, paths } = await home();
    const provider = await openSecretsProvider({ paths, env: { ...env, TOOLHIVE_SECRET_A: 'from-env' }, config: { secrets: { provider_type: 'environment' } }, interactive: false });
    expect(provider.type).toBe('environment');
    expect(await provider.get('A')).toBe('from-env');
  });

  it('lets TOOLHIVE_SECRETS_PROVIDER override config, and names the variable when its value is wrong', () => {
    expect(secretsProviderType({ secrets: { provider_type: 'encrypted' } }, { TOOLHIVE_SECRETS_PROVIDER: 'environment' })).toBe('environment');
    expect(() => secretsProviderType({}, { TOOLHIVE_SECRETS_PROVIDER: '1password' })).toThrowError(/TOOLHIVE_SECRETS_PROVIDER/);
  });
});

describe('thv secret setup (service)', () => {
  it('without a terminal, creates the store with TOOLHIVE_SECRETS_PASSWORD, records the choice and keeps the password in the keyring', async () => {
    const { env, paths } = await home();
    const keyring = memoryKeyring();
    const result = await setupSecrets({ paths, env: { ...env, TOOLHIVE_SECRETS_PASSWORD: 'pw' }, providerType: 'encrypted', interactive: false, keyring, prompt: refusePrompt, kdf: CHEAP_KDF });
    expect(result).toEqual({ providerType: 'encrypted', created: true, passwordInKeyring: true });
    expect(keyring.stored).toBe('pw');
    expect(await new ConfigStore(paths.configFile).load()).toMatchObject({ secrets: { provider_type: 'encrypted', setup_completed: true } });
    const provider = await openSecretsProvider({ paths, env, config: {}, interactive: false, keyring, kdf: CHEAP_KDF });
    expect(await provider.list()).toEqual([]);
  });

  it('at a terminal, asks for a new password twice; for an existing store, asks once and checks it', async () => {
    const { env, paths } = await home();
    const asked: string[] = [];
    const answers = ['pw', 'pw', 'wrong'];
    const prompt = async (q: string) => {
      asked.push(q);
      return answers.shift()!;
    };
    await setupSecrets({ paths, env, providerType: 'encrypted', interactive: true, keyring: noKeyring, prompt, kdf: CHEAP_KDF });
    expect(asked).toHaveLength(2);
    const before = await readFile(paths.secretsFile);
    await expect(setupSecrets({ paths, env, providerType: 'encrypted', interactive: true, keyring: noKeyring, prompt, kdf: CHEAP_KDF })).rejects.toMatchObject({ code: 'secrets_locked' });
    expect(asked).toHaveLength(3);
    expect((await readFile(paths.secretsFile)).equals(before)).toBe(true);
  });

  it('without a terminal or TOOLHIVE_SECRETS_PASSWORD, fails with how to give one and changes nothing', async () => {
    const { env, paths } = await home();
    await expect(setupSecrets({ paths, env, providerType: 'encrypted', interactive: false, keyring: noKeyring, prompt: refusePrompt })).rejects.toMatchObject({
      code: 'secrets_unavailable',
      hint: expect.stringMatching(/TOOLHIVE_SECRETS_PASSWORD/),
    });
    expect(await exists(paths.configFile)).toBe(false);
    expect(await exists(paths.secretsFile)).toBe(false);
  });

  it('for the environment provider, only records the choice', async () => {
    const { env, paths } = await home();
    expect(await setupSecrets({ paths, env, providerType: 'environment', interactive: false, keyring: noKeyring, prompt: refusePrompt })).toEqual({
      providerType: 'environment',
      created: false,
      passwordInKeyring: false,
    });
    expect(await new ConfigStore(paths.configFile).load()).toEqual({ secrets: { provider_type: 'environment', setup_completed: true } });
    expect(await exists(paths.secretsFile)).toBe(false);
  });
});
