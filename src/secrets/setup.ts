import { randomBytes } from 'node:crypto';
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
  /** A password given by the caller (the API's `POST /secrets`); it wins over every other source. */
  password?: string;
  /**
   * Without a terminal and without a password: make up a random one for a new store when the OS
   * keyring keeps it (ToolHive Studio's first start). Never for an existing store.
   */
  generateIfKeyring?: boolean;
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
    const keyring = opts.keyring ?? osKeyring({ env: opts.env });
    const password = await chooseSetupPassword(opts, exists, keyring);
    const store = new EncryptedSecretsProvider({ file: opts.paths.secretsFile, password: async () => password.value, ...(opts.kdf ? { kdf: opts.kdf } : {}) });
    ({ created } = await store.initialize());
    passwordInKeyring = password.inKeyring || (await keyring.write(password.value));
  }
  await new ConfigStore(opts.paths.configFile).update((draft) => {
    draft.secrets = { ...draft.secrets, provider_type: opts.providerType, setup_completed: true };
  });
  return { providerType: opts.providerType, created, passwordInKeyring };
}

async function chooseSetupPassword(opts: SetupSecretsOptions, storeExists: boolean, keyring: PasswordKeyring): Promise<{ value: string; inKeyring: boolean }> {
  const prompt = opts.prompt ?? ((question: string) => promptHidden(question));
  if (opts.password) return { value: opts.password, inKeyring: false };
  if (opts.interactive) {
    if (!storeExists) return { value: await promptNewPassword(prompt), inKeyring: false };
    const password = await prompt('Password of the existing secrets store: ');
    if (password) return { value: password, inKeyring: false };
  } else {
    const fromEnv = envText(opts.env, 'TOOLHIVE_SECRETS_PASSWORD');
    if (fromEnv) return { value: fromEnv, inKeyring: false };
    if (opts.generateIfKeyring) {
      const fromKeyring = await keyring.read();
      if (fromKeyring) return { value: fromKeyring, inKeyring: true };
      if (!storeExists) {
        // Kept only where it can be found again: a password nobody knows and no keyring holds would lock the store for good.
        const generated = randomBytes(32).toString('base64url');
        if (await keyring.write(generated)) return { value: generated, inKeyring: true };
      }
    }
  }
  throw new ThvError('secrets_unavailable', 'no password for the encrypted secrets store', {
    hint: `Run \`thv secret setup\` in a terminal, or set ${PASSWORD_ENV} when running it without one.`,
  });
}
