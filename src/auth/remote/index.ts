import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { ThvError } from '../../core/errors.js';
import { AuthRetryingError, type UpstreamCredentials } from '../../transport/upstream-credentials.js';
import { LOGIN_REQUIRED_CONTEXT } from './login-required.js';
import { beginAuthorization, DEFAULT_CALLBACK_PORT, DEFAULT_FLOW_TIMEOUT_MS } from '../browser-flow.js';
import type { UrlOpener } from '../opener.js';
import { classifyFetchError } from '../classify.js';
import { TokenMonitor, DEFAULT_MONITOR_TIMINGS, type MonitorStatus, type MonitorTimings, type TokenSet } from '../monitor.js';
import { discoverRemoteAuth } from './discovery.js';
import { parseBearerChallenge } from './discovery.js';
import { chooseClient, clientToRenew, renewClient, type ActiveClient } from './clients.js';
import { refreshGrant, type TokenEndpointClient } from './token-client.js';
import { parseRemoteAuthState, serializeRemoteAuthState, type RemoteAuthState } from './state.js';

export { remoteAuthStateKey, parseRemoteAuthState, type RemoteAuthState } from './state.js';
export { discoverRemoteAuth, canonicalResource, parseBearerChallenge, wellKnownMetadataUrls } from './discovery.js';
export { CLIENT_METADATA_URL_ENV, checkClientMetadataUrl, clientMetadataDocument } from './cimd.js';

export const STALE_CLIENT_HINT =
  'The authorization server rejected the stored credentials. If thv registered its client dynamically, that registration may be stale or deleted on the server; restart the workload to log in (and register) again.';

export interface OAuthSettings {
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  scopes?: string[];
  resource?: string;
  callbackPort?: number;
  timeoutMs?: number;
  /** thv's Client ID Metadata Document URL (TOOLHIVE_CLIENT_METADATA_URL); without it, no CIMD. */
  clientMetadataUrl?: string;
}

export interface OAuthCredentialsOptions {
  workload: string;
  serverUrl: string;
  settings: OAuthSettings;
  /** The stored state (secrets store), if any. */
  stored: string | undefined;
  /** Persists the state; called after every login and every refresh (rotated refresh tokens). */
  save(raw: string): Promise<void>;
  /** Opens the authorization URL; undefined means never open a browser (REST API, --remote-auth-skip-browser). */
  opener?: UrlOpener;
  onStatus(status: MonitorStatus, context: string): void;
  clock: Clock;
  log: Logger;
  timings?: MonitorTimings;
  fetch?: typeof fetch;
}

export interface OAuthCredentials extends UpstreamCredentials {
  /** Starts resuming the stored session or logging in, in the background; idempotent. */
  start(): void;
  /** Settles once after `start`: resolves when a usable token exists, rejects with why none could be had. */
  readonly ready: Promise<void>;
  /** The token monitor, once a token exists. */
  readonly monitor: TokenMonitor | undefined;
  /** Cancels a pending login and stops the monitor; no status is reported afterwards. */
  close(): Promise<void>;
  stepUpAfterForbidden(wwwAuthenticate: string): Promise<boolean>;
}

/** How long a client is asked to wait while a login is pending: a person is typing a password. */
const LOGIN_RETRY_AFTER_SECONDS = 5;

/**
 * OAuth credentials for one remote MCP server (docs/remote-auth.md). Nothing happens until `start()`: then
 * the stored session is reused when it still works, otherwise the authorization server is
 * discovered, a client registered when none was given and the PKCE browser login begun, all in the
 * background, so the proxy is already listening while the user logs in. The token monitor keeps the
 * token fresh afterwards. Statuses go through `onStatus`: `unauthenticated` with the authorization
 * URL while the login waits, `running` once a token exists, `unauthenticated` with the reason when
 * no session could be had. Until a token exists, requests get AuthRetryingError (503 + Retry-After).
 */
export function createOAuthCredentials(options: OAuthCredentialsOptions): OAuthCredentials {
  const { log } = options;
  const closing = new AbortController();
  // Every request of the setup (discovery, registration, token grants) ends when the workload stops.
  const setupOptions: OAuthCredentialsOptions = { ...options, fetch: abortableFetch(options.fetch ?? fetch, closing.signal) };
  let monitor: TokenMonitor | undefined;
  let session: RemoteAuthState | undefined;
  let loginPending = false;
  let failure: Error | undefined;
  let establishing: Promise<void> | undefined;
  let stepUp: { key: string; result: Promise<boolean> } | undefined;
  /** Scope sets a step-up already asked for: never asked again in this process (no loop). */
  const steppedUp = new Set<string>();
  let renewing: Promise<void> | undefined;
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => undefined);
  const report = (status: MonitorStatus, context: string) => {
    if (!closing.signal.aborted) options.onStatus(status, context);
  };
  const save = async () => options.save(serializeRemoteAuthState(session!));
  /** Saving the session without its refused tokens; `close()` waits for it, so a restart never reads them. */
  let forgetting: Promise<void> | undefined;
  const forgetTokens = () => {
    withoutTokens(session!);
    forgetting = save().catch((err: Error) => log.warn({ err: err.message }, 'could not forget the refused tokens'));
  };

  const activate = (state: RemoteAuthState, tokens: TokenSet) => {
    monitor?.stop();
    session = state;
    monitor = startMonitor(() => session!, tokens, { ...options, onStatus: report }, save, forgetTokens);
    renewing ??= keepClientSecretFresh().finally(() => (renewing = undefined));
  };

  const establish = async () => {
    let state = usableState(parseRemoteAuthState(options.stored), options);
    const resumed = state ? await resumeSession(state, setupOptions, closing.signal) : undefined;
    let tokens = typeof resumed === 'object' ? resumed : undefined;
    if (!state || !tokens) {
      loginPending = true;
      state = await login(state, { ...setupOptions, onStatus: report }, closing.signal, { clientRejected: resumed === 'client_rejected' });
      tokens = tokensOf(state)!;
    }
    if (closing.signal.aborted) throw closing.signal.reason;
    activate(state, tokens);
    report('running', '');
  };

  /**
   * A registered client whose secret expires (RFC 7591 `client_secret_expires_at`) is renewed before
   * it does, by the injected clock: RFC 7592 keeps the client id, so the session goes on; a new
   * registration serves the next login (docs/remote-auth.md#expiring-client-secrets).
   */
  const keepClientSecretFresh = async () => {
    while (!closing.signal.aborted && session) {
      const due = clientToRenew(session, options.clock.now());
      if (!due) return;
      if (due.at > options.clock.now()) {
        try {
          await options.clock.sleep(due.at - options.clock.now(), closing.signal);
        } catch {
          return;
        }
        continue;
      }
      const current = session;
      try {
        const renewed = await renewClient(current, due.client, { ...setupOptions, now: options.clock.now() });
        if (session !== current) continue;
        current.clients[current.issuer] = renewed.stored;
        if (renewed.stored.client_id === current.client_id) {
          if (renewed.stored.client_secret) current.client_secret = renewed.stored.client_secret;
          if (renewed.stored.token_endpoint_auth_method) current.token_endpoint_auth_method = renewed.stored.token_endpoint_auth_method;
        }
        await save();
        log.info({ issuer: current.issuer, how: renewed.how }, 'renewed the OAuth client before its secret expires');
      } catch (err) {
        if (closing.signal.aborted) return;
        log.warn({ err: (err as Error).message }, 'could not renew the OAuth client secret; trying again later');
        // Half the time left, at least a minute: the secret still works until it expires.
        const left = (due.client.client_secret_expires_at ?? 0) - options.clock.now();
        try {
          await options.clock.sleep(Math.max(60_000, left / 2), closing.signal);
        } catch {
          return;
        }
        if (options.clock.now() >= (due.client.client_secret_expires_at ?? 0)) return;
      }
    }
  };

  const runStepUp = async (state: RemoteAuthState, scopes: string[]): Promise<boolean> => {
    log.info({ scopes }, 'the remote server asks for more scopes (insufficient_scope); authorizing again');
    try {
      const next = await login(state, { ...setupOptions, onStatus: report }, closing.signal, { scopes });
      if (closing.signal.aborted) throw closing.signal.reason;
      activate(next, tokensOf(next)!);
      report('running', '');
      return true;
    } catch (err) {
      if (closing.signal.aborted) throw err;
      // The old token still works for what it was granted.
      report(monitor?.state.status ?? 'running', monitor?.state.context ?? '');
      throw new ThvError('auth_failed', `the re-authorization for scope "${scopes.join(' ')}" failed: ${(err as Error).message}`, {
        hint: `\`thv restart ${options.workload}\` logs in again.`,
      });
    }
  };

  return {
    ready,
    get monitor() {
      return monitor;
    },
    start() {
      establishing ??= establish().then(settle.resolve, (err: unknown) => {
        if (!closing.signal.aborted) {
          failure = err instanceof Error ? err : new Error(String(err));
          log.error({ err: failure.message }, 'the OAuth session with the remote server could not be established');
          report('unauthenticated', `OAuth login failed: ${failure.message}`);
        }
        settle.reject(err);
      });
    },
    async headers() {
      if (monitor) return { authorization: `Bearer ${await monitor.accessToken()}` };
      if (failure) {
        throw new ThvError('auth_failed', `not authenticated to the remote server: ${failure.message}`, { hint: 'Restart the workload to log in again.' });
      }
      // The URL stays out of the answer: with a wildcard bind, the proxy's callers are not only the user.
      throw loginPending
        ? new AuthRetryingError(LOGIN_RETRY_AFTER_SECONDS, `OAuth login required: the workload "${options.workload}" waits for the user to log in (\`thv status ${options.workload}\` shows the URL)`)
        : new AuthRetryingError(1, 'the OAuth session with the remote server is being set up');
    },
    refreshAfterUnauthorized: async () => (monitor ? monitor.refreshAfterUnauthorized() : false),
    /**
     * Step-up (MCP authorization spec): one new authorization with the union of the granted and
     * the requested scopes, shared by concurrent callers. A scope set asked for once is never asked
     * for again, so a server that keeps answering insufficient_scope gets a clear failure, not a loop.
     */
    async stepUpAfterForbidden(wwwAuthenticate: string) {
      const challenge = parseBearerChallenge(wwwAuthenticate);
      const state = session;
      if (challenge.error !== 'insufficient_scope' || !challenge.scopes?.length || !state || closing.signal.aborted) return false;
      const union = [...new Set([...state.scopes, ...challenge.scopes])];
      const key = [...union].sort().join(' ');
      if (stepUp?.key === key) return stepUp.result;
      if (union.length === state.scopes.length || steppedUp.has(key)) {
        throw new ThvError('auth_failed', `the remote server still answers insufficient_scope for "${challenge.scopes.join(' ')}", which thv already asked the authorization server for; not authorizing again`, {
          hint: 'The authorization server did not grant that scope (or the user declined it): check the account\'s permissions.',
        });
      }
      steppedUp.add(key);
      const result = runStepUp(state, union).finally(() => {
        if (stepUp?.key === key) stepUp = undefined;
      });
      stepUp = { key, result };
      return result;
    },
    async close() {
      if (!closing.signal.aborted) closing.abort(new ThvError('auth_failed', 'the workload is stopping'));
      monitor?.stop();
      await establishing;
      await stepUp?.result.catch(() => undefined);
      await renewing;
      await forgetting;
    },
  };
}

function abortableFetch(inner: typeof fetch, signal: AbortSignal): typeof fetch {
  return (input, init) => inner(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}

function startMonitor(current: () => RemoteAuthState, tokens: TokenSet, options: OAuthCredentialsOptions, persist: () => Promise<void>, forget: () => void): TokenMonitor {
  const save = async (next: TokenSet) => {
    const state = current();
    state.access_token = next.accessToken;
    if (next.refreshToken) state.refresh_token = next.refreshToken;
    if (next.expiresAt !== undefined) state.expires_at = next.expiresAt;
    else delete state.expires_at;
    await persist();
  };
  const monitor = new TokenMonitor({
    initial: tokens,
    // The client is read at each refresh: a renewed client secret is used from then on.
    refresh: (t, signal) => refreshGrant(endpointClient(current(), options), t.refreshToken!, signal),
    onTokens: save,
    onStatus: options.onStatus,
    clock: options.clock,
    log: options.log,
    timings: options.timings ?? DEFAULT_MONITOR_TIMINGS,
    ...(current().dynamic_client ? { permanentFailureHint: STALE_CLIENT_HINT } : {}),
    // A refused session is forgotten (the client registration is kept), so `thv restart` logs in
    // afresh instead of resuming a dead token (docs/remote-auth.md#after-a-refresh-token-dies).
    onSessionRefused: () => forget(),
  });
  monitor.start();
  return monitor;
}

/** Stored state is used only for the same server and, when given, the same issuer and client. */
function usableState(state: RemoteAuthState | undefined, options: OAuthCredentialsOptions): RemoteAuthState | undefined {
  if (!state || state.server_url !== options.serverUrl) return undefined;
  if (options.settings.issuer && state.issuer !== options.settings.issuer) return undefined;
  if (options.settings.clientId && state.client_id !== options.settings.clientId) return undefined;
  return state;
}

/** The state with its tokens forgotten, in place: issuer, client and scopes stay for the next login. */
function withoutTokens(state: RemoteAuthState): RemoteAuthState {
  delete state.access_token;
  delete state.refresh_token;
  delete state.expires_at;
  return state;
}

function tokensOf(state: RemoteAuthState): TokenSet | undefined {
  if (!state.access_token && !state.refresh_token) return undefined;
  return {
    accessToken: state.access_token ?? '',
    ...(state.refresh_token ? { refreshToken: state.refresh_token } : {}),
    ...(state.expires_at !== undefined ? { expiresAt: state.expires_at } : state.access_token ? {} : { expiresAt: 0 }),
  };
}

/**
 * The stored session, refreshed now when its access token has expired. A permanent refusal means a
 * new login; a transient failure keeps the session and leaves the retrying to the monitor.
 */
async function resumeSession(state: RemoteAuthState, options: OAuthCredentialsOptions, signal: AbortSignal): Promise<TokenSet | 'client_rejected' | undefined> {
  const tokens = tokensOf(state);
  if (!tokens) return undefined;
  const fresh = tokens.accessToken !== '' && (tokens.expiresAt === undefined || tokens.expiresAt > options.clock.now() + 1000);
  if (fresh) return tokens;
  if (!tokens.refreshToken) return undefined;
  try {
    const next = await refreshGrant(endpointClient(state, options), tokens.refreshToken, signal);
    const merged = { ...next, ...(next.refreshToken ? {} : { refreshToken: tokens.refreshToken }) };
    state.access_token = merged.accessToken;
    state.refresh_token = merged.refreshToken;
    if (merged.expiresAt !== undefined) state.expires_at = merged.expiresAt;
    await options.save(serializeRemoteAuthState(state));
    return merged;
  } catch (err) {
    if (signal.aborted) throw err;
    const failure = classifyFetchError(err);
    if (failure.kind === 'transient') {
      options.log.warn({ reason: failure.reason }, 'could not refresh the stored token yet; the token monitor keeps trying');
      return tokens;
    }
    options.log.warn({ reason: failure.reason }, 'the stored session was refused; a new login is needed');
    // Forgotten now, so a login that is never completed does not leave the dead token for the next start.
    await options.save(serializeRemoteAuthState(withoutTokens(state))).catch((e: Error) => options.log.warn({ err: e.message }, 'could not forget the refused tokens'));
    if (failure.oauthError === 'invalid_client' || failure.oauthError === 'unauthorized_client') {
      if (state.dynamic_client) options.log.warn(STALE_CLIENT_HINT);
      return 'client_rejected';
    }
    return undefined;
  }
}

interface LoginOptions {
  /** The stored client was refused (invalid_client): do not reuse it. */
  clientRejected?: boolean;
  /** Step-up: exactly these scopes. */
  scopes?: string[];
}

async function login(previous: RemoteAuthState | undefined, options: OAuthCredentialsOptions, signal: AbortSignal, how: LoginOptions = {}): Promise<RemoteAuthState> {
  const { settings, log } = options;
  const found = await discoverRemoteAuth(options.serverUrl, {
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.resource ? { resource: settings.resource } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const scopes = how.scopes ?? (settings.scopes?.length ? settings.scopes : found.scopes);
  const callbackPort = settings.callbackPort ?? DEFAULT_CALLBACK_PORT;
  const clients = knownClients(previous);
  if (how.clientRejected && previous) {
    // Only the client that was refused is forgotten; one renewed since then is kept.
    if (clients[previous.issuer]?.client_id === previous.client_id) delete clients[previous.issuer];
  }
  const client: ActiveClient = await chooseClient({
    settings,
    issuer: found.issuer,
    metadata: found.metadata,
    stored: clients[found.issuer],
    redirectUri: `http://localhost:${callbackPort}/callback`,
    scopes,
    now: options.clock.now(),
    log,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (client.stored) clients[found.issuer] = client.stored;
  const pending = await beginAuthorization({
    issuer: found.metadata,
    clientId: client.clientId,
    // A confidential client authenticates on the code exchange as on every refresh.
    ...(client.clientSecret ? { clientSecret: client.clientSecret } : {}),
    ...(client.authMethod ? { authMethod: client.authMethod } : {}),
    scopes,
    resource: found.resource,
    callbackPort,
    portHint: '--remote-auth-callback-port',
    timeoutMs: settings.timeoutMs ?? DEFAULT_FLOW_TIMEOUT_MS,
    clock: options.clock,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (signal.aborted) pending.cancel();
  signal.addEventListener('abort', () => pending.cancel('the workload is stopping'), { once: true });
  options.onStatus('unauthenticated', `${LOGIN_REQUIRED_CONTEXT}${pending.authorizationUrl}`);
  log.warn({ url: pending.authorizationUrl }, 'OAuth login required for the remote server');
  if (options.opener) {
    await options.opener(pending.authorizationUrl).catch((err: unknown) => {
      log.warn({ error: err instanceof Error ? err.message : String(err) }, 'could not open a browser; open the URL yourself');
    });
  }
  const tokens = await pending.result;
  const state: RemoteAuthState = {
    version: 1,
    server_url: options.serverUrl,
    issuer: found.issuer,
    token_endpoint: found.metadata.token_endpoint!,
    resource: found.resource,
    client_id: client.clientId,
    ...(client.clientSecret && client.kind !== 'pre-registered' ? { client_secret: client.clientSecret } : {}),
    ...(client.authMethod ? { token_endpoint_auth_method: client.authMethod } : {}),
    dynamic_client: client.kind === 'dcr',
    scopes,
    access_token: tokens.accessToken,
    ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}),
    ...(tokens.expiresAt !== undefined ? { expires_at: tokens.expiresAt } : {}),
    clients,
  };
  await options.save(serializeRemoteAuthState(state));
  log.info({ issuer: found.issuer, client: client.kind }, 'OAuth login for the remote server completed');
  return state;
}

/** The clients of earlier sessions by issuer, including one stored before they were kept per issuer. */
function knownClients(previous: RemoteAuthState | undefined): RemoteAuthState['clients'] {
  const clients = { ...(previous?.clients ?? {}) };
  if (previous?.dynamic_client && !clients[previous.issuer]) {
    clients[previous.issuer] = {
      kind: 'dcr',
      client_id: previous.client_id,
      ...(previous.client_secret ? { client_secret: previous.client_secret } : {}),
      ...(previous.token_endpoint_auth_method ? { token_endpoint_auth_method: previous.token_endpoint_auth_method } : {}),
    };
  }
  return clients;
}

function endpointClient(state: RemoteAuthState, options: OAuthCredentialsOptions): TokenEndpointClient {
  const secret = options.settings.clientSecret ?? state.client_secret;
  return {
    tokenEndpoint: state.token_endpoint,
    clientId: state.client_id,
    ...(secret ? { clientSecret: secret } : {}),
    ...(state.token_endpoint_auth_method ? { authMethod: state.token_endpoint_auth_method } : {}),
    ...(state.resource ? { resource: state.resource } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    now: () => options.clock.now(),
  };
}
