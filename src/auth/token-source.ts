import { RegistryAuthRequiredError, ThvError, type ThvErrorOptions } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { withFileLock } from '../core/files.js';
import { log } from '../core/log.js';
import { TokenEndpointError, type Tokens } from './oauth-client.js';
import type { SessionStore, StoredSession } from './token-store.js';

/** Refresh this long before the access token expires, so a request never carries a dying token. */
export const REFRESH_LEEWAY_MS = 30_000;
/** Assumed lifetime of an access token whose response had no `expires_in`. */
export const UNKNOWN_LIFETIME_MS = 5 * 60_000;
/** A refresh holds the lock for at most one token request (30 s) plus the secrets write. */
const LOCK_WAIT_MS = 60_000;

export interface TokenSourceOptions {
  store: SessionStore;
  /** The inter-process lock that makes refreshes of one session take turns. */
  lockFile: string;
  refresh: (refreshToken: string) => Promise<Tokens>;
  /** The browser flow; absent when this process must not start one (non-interactive). */
  login?: () => Promise<Tokens>;
  clock: Clock;
  /** Builds the error callers get when no token can be had; `cause` is the most specific reason. */
  authRequired?: (cause: Error) => Error;
  /**
   * A cheap fingerprint of the persisted session (e.g. the config file's stat). When it changes,
   * another process logged in, out or refreshed: the token held in memory is dropped and the store
   * read again, so a long-lived process does not outlive a logout made elsewhere.
   */
  persistedVersion?: () => Promise<string>;
}

/**
 * Access tokens in this order: memory → the stored access token → a refresh-token grant → the
 * browser flow (only when `login` is given, and at most once per source). Refreshes take an
 * inter-process lock and re-read the store inside it, so with an IdP that rotates refresh tokens
 * two processes never spend the same one.
 */
export class OAuthTokenSource {
  private current: { accessToken: string; expiresAt: number } | undefined;
  private inflight: { epoch: number; token: Promise<string> } | undefined;
  /** Bumped by invalidate(), so a lookup started before it neither is joined nor is remembered. */
  private epoch = 0;
  private seenVersion: string | undefined;
  private loginAttempted = false;

  constructor(private readonly options: TokenSourceOptions) {}

  async accessToken(): Promise<string> {
    if (this.options.persistedVersion) {
      // Read before the store, so a change made while the store is being read is seen next time.
      const version = await this.options.persistedVersion();
      if (version !== this.seenVersion) {
        this.seenVersion = version;
        this.invalidate();
      }
    }
    if (this.current && this.isFresh(this.current.expiresAt)) return this.current.accessToken;
    if (this.inflight?.epoch !== this.epoch) {
      const epoch = this.epoch;
      const token = this.obtain(epoch).finally(() => {
        if (this.inflight?.token === token) this.inflight = undefined;
      });
      this.inflight = { epoch, token };
    }
    return this.inflight.token;
  }

  /** Forget the in-memory token (e.g. after the resource server answered 401). */
  invalidate(): void {
    this.current = undefined;
    this.epoch += 1;
  }

  private async obtain(epoch: number): Promise<string> {
    const session = await this.load();
    if (this.usable(session)) return this.remember(epoch, session.accessToken!, session.expiresAt!);
    let cause: Error;
    if (session.refreshToken) {
      try {
        return await this.refreshUnderLock(epoch);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        cause = err;
      }
    } else {
      cause = new ThvError('auth_failed', session.accessToken
        ? 'the access token has expired and no refresh token is stored (the identity provider issued none)'
        : 'no refresh token is stored for this registry (not logged in)');
    }
    const { login } = this.options;
    if (!login || this.loginAttempted) throw this.authRequired(cause);
    // A command starts at most one browser flow: if it fails, the command fails.
    this.loginAttempted = true;
    log().debug({ reason: cause.message }, 'starting the browser login');
    let tokens: Tokens;
    try {
      tokens = await login();
    } catch (err) {
      throw this.authRequired(err instanceof Error ? err : new Error(String(err)));
    }
    const normalised = this.normalise(tokens);
    await withFileLock(this.options.lockFile, () => this.options.store.save(normalised, { fromLogin: true }), { waitMs: LOCK_WAIT_MS }).catch((err: unknown) => {
      throw this.authRequired(err instanceof Error ? err : new Error(String(err)));
    });
    return this.remember(epoch, normalised.accessToken, normalised.expiresAt!);
  }

  private async load(): Promise<StoredSession> {
    try {
      return await this.options.store.load();
    } catch (err) {
      throw this.authRequired(describeStoreFailure(err));
    }
  }

  private refreshUnderLock(epoch: number): Promise<string> {
    return withFileLock(
      this.options.lockFile,
      async () => {
        // Another process may have refreshed (and rotated the refresh token) while we waited.
        const session = await this.load();
        if (this.usable(session)) return this.remember(epoch, session.accessToken!, session.expiresAt!);
        if (!session.refreshToken) throw new ThvError('auth_failed', 'no refresh token is stored for this registry (not logged in)');
        let tokens: Tokens;
        try {
          tokens = this.normalise(await this.options.refresh(session.refreshToken));
        } catch (err) {
          if (err instanceof TokenEndpointError && err.oauthError === 'invalid_grant') {
            // The IdP will never accept it again; keeping it would only repeat the failure.
            await this.options.store.clear().catch(() => undefined);
          }
          throw err;
        }
        await this.options.store.save(tokens);
        return this.remember(epoch, tokens.accessToken, tokens.expiresAt!);
      },
      { waitMs: LOCK_WAIT_MS },
    );
  }

  private normalise(tokens: Tokens): Tokens & { expiresAt: number } {
    return { ...tokens, expiresAt: tokens.expiresAt ?? this.options.clock.now() + UNKNOWN_LIFETIME_MS };
  }

  private usable(session: StoredSession): boolean {
    return Boolean(session.accessToken) && session.expiresAt !== undefined && this.isFresh(session.expiresAt);
  }

  private isFresh(expiresAt: number): boolean {
    return expiresAt - REFRESH_LEEWAY_MS > this.options.clock.now();
  }

  private remember(epoch: number, accessToken: string, expiresAt: number): string {
    if (epoch === this.epoch) this.current = { accessToken, expiresAt };
    return accessToken;
  }

  private authRequired(cause: Error): Error {
    if (cause instanceof RegistryAuthRequiredError) return cause;
    if (this.options.authRequired) return this.options.authRequired(cause);
    return new RegistryAuthRequiredError('registry authentication required', { cause } satisfies ThvErrorOptions);
  }
}

function describeStoreFailure(err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err);
  const hint = err instanceof ThvError && err.hint ? ` (${err.hint.replace(/\.$/, '')})` : '';
  return new ThvError('secrets_unavailable', `the secrets store holding the registry tokens cannot be read: ${reason}${hint}`, { cause: err });
}
