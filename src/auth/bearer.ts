import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { RegistryAuthRequiredError, ThvError } from '../core/errors.js';
import { DEFAULT_REGISTRY_TOKEN_VAR, envNamedInConfig } from '../core/env.js';

/**
 * Bearer mode for CI/CD: a static token from `bearer.token_file`, else from the environment
 * variable `bearer.token_env` (THV_REGISTRY_TOKEN by default). It is only ever read, never stored.
 */
export async function readBearerToken(config: Config, env: NodeJS.ProcessEnv): Promise<string> {
  const bearer = config.registry_auth?.bearer ?? {};
  if (bearer.token_file) {
    let text: string;
    try {
      text = await readFile(bearer.token_file, 'utf8');
    } catch (err) {
      throw new RegistryAuthRequiredError('registry authentication required', {
        cause: new ThvError('auth_failed', `cannot read the registry token file ${bearer.token_file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`),
        hint: `Create ${bearer.token_file} holding the registry token, or change registry_auth.bearer.token_file.`,
      });
    }
    const token = text.trim();
    if (!token) {
      throw new RegistryAuthRequiredError('registry authentication required', {
        cause: new ThvError('auth_failed', `the registry token file ${bearer.token_file} is empty`),
        hint: `Write the registry token to ${bearer.token_file}.`,
      });
    }
    return token;
  }
  const name = bearer.token_env || DEFAULT_REGISTRY_TOKEN_VAR;
  const token = envNamedInConfig(env, name)?.trim();
  if (!token) {
    throw new RegistryAuthRequiredError('registry authentication required', {
      cause: new ThvError('auth_failed', `the environment variable ${name} holding the registry token is not set`),
      hint: `Set ${name} to the registry token.`,
    });
  }
  return token;
}
