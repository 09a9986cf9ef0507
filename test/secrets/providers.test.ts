import { join } from 'node:path';
import { EncryptedSecretsProvider } from '../../src/secrets/encrypted.js';
import { EnvironmentSecretsProvider } from '../../src/secrets/environment.js';
import { internalKey } from '../../src/secrets/names.js';
import { scopedSecrets, userSecrets } from '../../src/secrets/scoped.js';
import type { SecretsProvider } from '../../src/secrets/provider.js';
import { describeSecretsProviderContract } from './provider-contract.js';
import { CHEAP_KDF, tempDirs } from './helpers.js';

const newDir = tempDirs();

async function encrypted(seed: Record<string, string>): Promise<SecretsProvider> {
  const provider = new EncryptedSecretsProvider({ file: join(await newDir(), 'secrets_encrypted'), password: async () => 'contract-password', kdf: CHEAP_KDF });
  for (const [name, value] of Object.entries(seed)) await provider.set(name, value);
  return provider;
}

function environment(seed: Record<string, string>): SecretsProvider {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin', TOOLHIVE_SECRETS_PASSWORD: 'not a secret of the store' };
  for (const [name, value] of Object.entries(seed)) env[`TOOLHIVE_SECRET_${name}`] = value;
  return new EnvironmentSecretsProvider(env);
}

const inScope = (seed: Record<string, string>) => Object.fromEntries(Object.entries(seed).map(([k, v]) => [internalKey('auth', k), v]));

describeSecretsProviderContract('encrypted', encrypted);
describeSecretsProviderContract('environment', async (seed) => environment(seed));
describeSecretsProviderContract('userSecrets(encrypted)', async (seed) => userSecrets(await encrypted(seed)));
describeSecretsProviderContract('scopedSecrets(encrypted, auth)', async (seed) => scopedSecrets(await encrypted(inScope(seed)), 'auth'));
describeSecretsProviderContract('scopedSecrets(environment, auth)', async (seed) => scopedSecrets(environment(inScope(seed)), 'auth'));
