import { systemClock, type Clock } from '../core/clock.js';
import { log } from '../core/log.js';
import { envFlag, envText } from '../core/env.js';

/** Where `thv secret setup` leaves the password of the encrypted store, when the OS offers one. */
export interface PasswordKeyring {
  /** The stored password, or undefined when there is none or the keyring cannot be used. */
  read(): Promise<string | undefined>;
  /** Whether it was stored. */
  write(password: string): Promise<boolean>;
}

/** The slice of @napi-rs/keyring we use, so tests can hand in a keyring that hangs or fails. */
export interface KeyringEntry {
  getPassword(signal?: AbortSignal | null): Promise<string | null>;
  setPassword(password: string, signal?: AbortSignal | null): Promise<void>;
}
export type KeyringLoader = () => Promise<KeyringEntry>;

export const KEYRING_SERVICE = 'toolhive';
export const KEYRING_ACCOUNT = 'secrets_password';
export const KEYRING_TIMEOUT_MS = 1500;

export interface OsKeyringOptions {
  env: NodeJS.ProcessEnv;
  load?: KeyringLoader;
  timeoutMs?: number;
  clock?: Clock;
}

export function keyringDisabled(env: NodeJS.ProcessEnv): boolean {
  return envFlag(env, 'TOOLHIVE_NO_KEYRING');
}

/**
 * The OS keyring, loaded lazily because it is a native, optional dependency. Whatever goes wrong —
 * the module is missing, there is no keyring daemon, the daemon hangs — costs at most `timeoutMs`
 * and is logged at debug level; the caller simply moves on to the next password source.
 */
export function osKeyring(options: OsKeyringOptions): PasswordKeyring {
  const load = options.load ?? (() => loadNapiKeyring(options.env));
  const timeoutMs = options.timeoutMs ?? KEYRING_TIMEOUT_MS;
  const clock = options.clock ?? systemClock;
  const disabled = keyringDisabled(options.env);

  async function guarded<T>(what: string, fn: (entry: KeyringEntry, signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    if (disabled) return undefined;
    const work = new AbortController();
    const timer = new AbortController();
    const timedOut = Symbol('timeout');
    try {
      const outcome = await Promise.race([
        (async () => fn(await load(), work.signal))(),
        clock.sleep(timeoutMs, timer.signal).then(() => timedOut),
      ]);
      if (outcome === timedOut) {
        work.abort();
        log().debug({ timeoutMs }, `the OS keyring did not answer (${what}); skipping it`);
        return undefined;
      }
      return outcome as T;
    } catch (err) {
      log().debug({ err: (err as Error).message }, `the OS keyring is not usable (${what}); skipping it`);
      return undefined;
    } finally {
      timer.abort();
    }
  }

  return {
    read: async () => (await guarded('read', (entry, signal) => entry.getPassword(signal))) || undefined,
    write: async (password) => (await guarded('write', async (entry, signal) => {
      await entry.setPassword(password, signal);
      return true;
    })) ?? false,
  };
}

/**
 * On Linux only the Secret Service (gnome-keyring, KWallet, …) will do: the library would
 * otherwise fall back to the kernel keyring, which forgets everything at reboot — and a password
 * the user never had to type again would be lost with it. Without a session bus there is no
 * Secret Service, and not even trying spares a D-Bus autolaunch.
 */
async function loadNapiKeyring(env: NodeJS.ProcessEnv): Promise<KeyringEntry> {
  if (process.platform === 'linux' && !envText(env, 'DBUS_SESSION_BUS_ADDRESS')) throw new Error('no D-Bus session bus, so no Secret Service');
  const { AsyncEntry } = await import('@napi-rs/keyring');
  return new AsyncEntry(KEYRING_SERVICE, KEYRING_ACCOUNT, { linux: { store: 'secret-service' } });
}
