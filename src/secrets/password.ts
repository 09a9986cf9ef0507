import { ThvError } from '../core/errors.js';
import type { PasswordGetter } from './encrypted.js';
import type { PasswordKeyring } from './keyring.js';
import { envText } from '../core/env.js';

export const PASSWORD_ENV = 'TOOLHIVE_SECRETS_PASSWORD';

export const NO_PASSWORD_HINT = `Set ${PASSWORD_ENV}, or run \`thv secret setup\` in a terminal to choose a password.`;

export interface PasswordSourceOptions {
  env: NodeJS.ProcessEnv;
  keyring: PasswordKeyring;
  /** stdin and stderr are TTYs: a person can type the password. */
  interactive: boolean;
  prompt: (question: string) => Promise<string>;
}

/**
 * The password of the encrypted store, from the first source that has one: the OS keyring, then
 * TOOLHIVE_SECRETS_PASSWORD, then a hidden prompt when a person is at the terminal. With none, it
 * fails at once with a hint rather than waiting for input that cannot come. Asked once per
 * process; the answer is remembered.
 */
export function passwordSource(options: PasswordSourceOptions): PasswordGetter {
  let pending: Promise<string> | undefined;
  return (purpose) => {
    pending ??= find(options, purpose.creating).catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

async function find(options: PasswordSourceOptions, creating: boolean): Promise<string> {
  const fromKeyring = await options.keyring.read();
  if (fromKeyring) return fromKeyring;
  const fromEnv = envText(options.env, 'TOOLHIVE_SECRETS_PASSWORD');
  if (fromEnv) return fromEnv;
  if (options.interactive) return creating ? promptNewPassword(options.prompt) : promptExisting(options.prompt);
  throw new ThvError('secrets_unavailable', 'no password for the encrypted secrets store', { hint: NO_PASSWORD_HINT });
}

async function promptExisting(prompt: (q: string) => Promise<string>): Promise<string> {
  const password = await prompt('Secrets password: ');
  if (!password) throw new ThvError('secrets_unavailable', 'no password was entered', { hint: NO_PASSWORD_HINT });
  return password;
}

/** A new password is typed twice, so a typo does not lock the user out of their own store. */
export async function promptNewPassword(prompt: (q: string) => Promise<string>): Promise<string> {
  const first = await prompt('New secrets password: ');
  if (!first) throw new ThvError('secrets_unavailable', 'no password was entered', { hint: NO_PASSWORD_HINT });
  const second = await prompt('Repeat the password: ');
  if (first !== second) {
    throw new ThvError('secrets_unavailable', 'the two passwords do not match', { hint: 'Run the command again and type the same password twice.' });
  }
  return first;
}
