import { stat } from 'node:fs/promises';
import type { ConfigStore } from '../config/store.js';
import type { SecretsProvider } from '../secrets/provider.js';
import type { Tokens } from './oauth-client.js';

/** What survives between processes: the refresh token, and the last access token with its expiry. */
export interface StoredSession {
  refreshToken?: string;
  accessToken?: string;
  /** ms since the epoch */
  expiresAt?: number;
}

export interface SessionStore {
  /** Throws (e.g. `secrets_unavailable`) when the secrets store cannot be read. */
  load(): Promise<StoredSession>;
  /**
   * Stores what the IdP just gave. After a refresh, a refresh token it did not rotate is kept as it
   * was; after a login (`fromLogin`), a new session replaces the old one entirely.
   */
  save(tokens: Tokens, options?: { fromLogin?: boolean }): Promise<void>;
  /** Removes every stored token and returns the refresh token that was stored, for revocation. */
  clear(): Promise<string | undefined>;
}

export interface RegistrySessionStoreOptions {
  /** `REGISTRY_OAUTH_<8 hex>`, from registryTokenKey(). */
  key: string;
  /** The registry-scoped secrets store, opened on first use (the password may be needed). */
  secrets: () => Promise<SecretsProvider>;
  configStore: ConfigStore;
}

/**
 * Registry tokens: both live in the registry scope of the secrets store (the access token next to
 * the refresh token, under `<key>_ACCESS`); config.yaml only records the key and the expiry, never
 * a token.
 */
export class RegistrySessionStore implements SessionStore {
  constructor(private readonly options: RegistrySessionStoreOptions) {}

  get accessKey(): string {
    return `${this.options.key}_ACCESS`;
  }

  async load(): Promise<StoredSession> {
    const secrets = await this.options.secrets();
    const [refreshToken, access] = await Promise.all([secrets.get(this.options.key), secrets.get(this.accessKey)]);
    return { ...(refreshToken ? { refreshToken } : {}), ...parseAccess(access) };
  }

  async save(tokens: Tokens, options: { fromLogin?: boolean } = {}): Promise<void> {
    const secrets = await this.options.secrets();
    if (tokens.refreshToken) await secrets.set(this.options.key, tokens.refreshToken);
    else if (options.fromLogin) await secrets.delete(this.options.key);
    await secrets.set(this.accessKey, JSON.stringify({ access_token: tokens.accessToken, expires_at: tokens.expiresAt }));
    const hasRefreshToken = Boolean(tokens.refreshToken) || Boolean(await secrets.get(this.options.key));
    await this.options.configStore.update((config) => {
      const auth = (config.registry_auth ??= { type: 'oauth' });
      const oauth = (auth.oauth ??= {});
      if (hasRefreshToken) oauth.cached_refresh_token_ref = this.options.key;
      else delete oauth.cached_refresh_token_ref;
      if (tokens.expiresAt !== undefined) oauth.cached_token_expiry = new Date(tokens.expiresAt).toISOString();
    });
  }

  /**
   * Changes whenever another process logs in, logs out or refreshes: each of those rewrites
   * config.yaml (atomically, so a new inode) to record or drop the key and expiry. A stat is
   * cheap enough to take before every use of an in-memory token.
   */
  async version(): Promise<string> {
    try {
      const info = await stat(this.options.configStore.file, { bigint: true });
      return `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    } catch {
      // No config (or none readable) is a state too; the tokens then come from the store alone.
      return 'absent';
    }
  }

  async clear(): Promise<string | undefined> {
    const secrets = await this.options.secrets();
    const refreshToken = await secrets.get(this.options.key);
    await secrets.delete(this.options.key);
    await secrets.delete(this.accessKey);
    return refreshToken;
  }
}

function parseAccess(text: string | undefined): Pick<StoredSession, 'accessToken' | 'expiresAt'> {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as { access_token?: unknown; expires_at?: unknown };
    if (typeof value.access_token !== 'string' || !value.access_token) return {};
    return { accessToken: value.access_token, ...(typeof value.expires_at === 'number' ? { expiresAt: value.expires_at } : {}) };
  } catch {
    return {};
  }
}
