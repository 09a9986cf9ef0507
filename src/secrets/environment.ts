import { ThvError } from '../core/errors.js';
import { assertSecretName } from './names.js';
import type { SecretsCapabilities, SecretsProvider } from './provider.js';
import { envSecret, envSecretNames, secretVarName } from '../core/env.js';

export const SECRET_ENV_PREFIX = secretVarName('');

/**
 * The `environment` provider: read-only, each secret is `TOOLHIVE_SECRET_<NAME>` in the environment
 * thv was started with (CI, containers). Changing one is the job of whoever sets the environment.
 */
export class EnvironmentSecretsProvider implements SecretsProvider {
  readonly type = 'environment' as const;
  readonly capabilities: SecretsCapabilities = { canRead: true, canWrite: false, canDelete: false, canList: true };

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    return envSecret(this.env, name);
  }

  async list(): Promise<string[]> {
    return envSecretNames(this.env);
  }

  async set(name: string): Promise<void> {
    assertSecretName(name);
    throw readOnlyProviderError('environment', 'set', name);
  }

  async delete(name: string): Promise<void> {
    assertSecretName(name);
    throw readOnlyProviderError('environment', 'delete', name);
  }
}

/** What a command says when the configured provider cannot be written. */
export function readOnlyProviderError(type: string, action: 'set' | 'delete', name: string): ThvError {
  return new ThvError('bad_request', `the ${type} secrets provider is read-only: cannot ${action} ${name}`, {
    hint: `Set or unset ${secretVarName(name)} in the environment instead, or run \`thv secret setup --provider encrypted\` to keep secrets in an encrypted file.`,
  });
}
