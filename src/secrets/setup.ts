import { access } from 'node:fs/promises';
import { ThvError } from '../core/errors.js';
import type { Paths } from '../core/paths.js';
import { ConfigStore } from '../config/store.js';
import { EncryptedSecretsProvider } from './encrypted.js';
import type { KdfParams } from './envelope.js';
import { osKeyring, type PasswordKeyring } from './keyring.js';
import { PASSWORD_ENV, promptNewPassword } from './password.js';
import { promptHidden } from './prompt.js';
import type { SecretsProviderType } from './provider.js';
import { envText } from '../core/env.js';

export interface SetupSecretsOptions {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  providerType: SecretsProviderType;
  interactive: boolean;
  keyring?: PasswordKeyring;
  prompt?: (question: string) => Promise<string>;
  kdf?: KdfParams;
}

export interface SetupSecretsResult {
  providerType: SecretsProviderType;
  /** A new, empty encrypted store was written. */
  created: boolean;
  /** The password was saved in the OS keyring, so later commands need no password source. */
  passwordInKeyring: boolean;
}

/**
 * Chooses the provider and records it in config. For `encrypted`, the password comes from a
 * prompt (typed twice for a new store) or, without a terminal, from TOOLHIVE_SECRETS_PASSWORD;
 * an existing store must open with it — setup never replaces a store it cannot read.
 */
export async function setupSecrets(opts: SetupSecretsOptions): Promise<SetupSecretsResult> {
  let created = false;
  let passwordInKeyring = false;
  if (opts.providerType === 'encrypted') {
    const exists = await access(opts.paths.secretsFile).then(() => true, () => false);
    const password = await chooseSetupPassword(opts, exists);
    const store = new EncryptedSecretsProvider({ file: opts.paths.secretsFile, password: async () => password, ...(opts.kdf ? { kdf: opts.kdf } : {}) });
    ({ created } = await store.initialize());
    passwordInKeyring = await (opts.keyring ?? osKeyring({ env: opts.env })).write(password);
  }
  await new ConfigStore(opts.paths.configFile).update((draft) => {
    draft.secrets = { ...draft.secrets, provider_type: opts.providerType, setup_completed: true };
  });
  return { providerType: opts.providerType, created, passwordInKeyring };
}

async function chooseSetupPassword(opts: SetupSecretsOptions, storeExists: boolean): Promise<string> {
  const prompt = opts.prompt ?? ((question: string) => promptHidden(question));
  if (opts.interactive) {
    if (!storeExists) return promptNewPassword(prompt);
    const password = await prompt('Password of the existing secrets store: ');
    if (password) return password;
  } else {
    const fromEnv = envText(opts.env, 'TOOLHIVE_SECRETS_PASSWORD');
    if (fromEnv) return fromEnv;
  }
  throw new ThvError('secrets_unavailable', 'no password for the encrypted secrets store', {
    hint: `Run \`thv secret setup\` in a terminal, or set ${PASSWORD_ENV} when running it without one.`,
  });
}
