import { ThvError } from '../core/errors.js';
import type { Paths } from '../core/paths.js';
import type { Config } from '../config/schema.js';
import { EncryptedSecretsProvider } from './encrypted.js';
import { EnvironmentSecretsProvider } from './environment.js';
import type { KdfParams } from './envelope.js';
import { osKeyring, type PasswordKeyring } from './keyring.js';
import { passwordSource } from './password.js';
import { promptHidden } from './prompt.js';
import type { SecretsProvider, SecretsProviderType } from './provider.js';
import { envText } from '../core/env.js';

export type { SecretsCapabilities, SecretsProvider, SecretsProviderType, SecretScope } from './provider.js';
export { assertUserSecretName, scopedSecrets, userSecrets } from './scoped.js';
export { EncryptedSecretsProvider } from './encrypted.js';
export { EnvironmentSecretsProvider, SECRET_ENV_PREFIX, readOnlyProviderError } from './environment.js';
export { promptHidden } from './prompt.js';
export { PASSWORD_ENV } from './password.js';
export { setupSecrets, type SetupSecretsOptions, type SetupSecretsResult } from './setup.js';

export const PROVIDER_TYPES: readonly SecretsProviderType[] = ['encrypted', 'environment'];
export const PROVIDER_ENV = 'TOOLHIVE_SECRETS_PROVIDER';

/**
 * Which provider this process uses: TOOLHIVE_SECRETS_PROVIDER, else `secrets.provider_type` from
 * config, else `encrypted` — so a fresh install can store a secret (a refresh token at the first
 * login) without a setup step.
 */
export function secretsProviderType(config: Config, env: NodeJS.ProcessEnv): SecretsProviderType {
  const fromEnv = envText(env, 'TOOLHIVE_SECRETS_PROVIDER');
  if (fromEnv) {
    if (!(PROVIDER_TYPES as readonly string[]).includes(fromEnv)) {
      throw new ThvError('bad_request', `${PROVIDER_ENV} is "${fromEnv}", which is not a secrets provider`, {
        hint: `Use one of: ${PROVIDER_TYPES.join(', ')}.`,
      });
    }
    return fromEnv as SecretsProviderType;
  }
  return config.secrets?.provider_type || 'encrypted';
}

export interface OpenSecretsOptions {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  config: Config;
  /** A person is at the terminal (stdin and stderr are TTYs), so a password prompt may be shown. */
  interactive: boolean;
  /** Defaults to the OS keyring (skipped with TOOLHIVE_NO_KEYRING=1). */
  keyring?: PasswordKeyring;
  prompt?: (question: string) => Promise<string>;
  /** Key-derivation parameters for a store created now (tests make them cheap). */
  kdf?: KdfParams;
}

/** The raw provider; wrap it in `userSecrets` or `scopedSecrets` before use. */
export async function openSecretsProvider(opts: OpenSecretsOptions): Promise<SecretsProvider> {
  const type = secretsProviderType(opts.config, opts.env);
  if (type === 'environment') return new EnvironmentSecretsProvider(opts.env);
  return new EncryptedSecretsProvider({
    file: opts.paths.secretsFile,
    password: passwordSource({
      env: opts.env,
      keyring: opts.keyring ?? osKeyring({ env: opts.env }),
      interactive: opts.interactive,
      prompt: opts.prompt ?? ((question) => promptHidden(question)),
    }),
    ...(opts.kdf ? { kdf: opts.kdf } : {}),
  });
}
