import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { UpstreamCredentials } from '../../transport/upstream-credentials.js';
import { beginAuthorization, DEFAULT_CALLBACK_PORT, DEFAULT_FLOW_TIMEOUT_MS } from '../browser-flow.js';
import type { UrlOpener } from '../opener.js';
import { classifyFetchError } from '../classify.js';
import { TokenMonitor, DEFAULT_MONITOR_TIMINGS, type MonitorStatus, type MonitorTimings, type TokenSet } from '../monitor.js';
import { discoverRemoteAuth } from './discovery.js';
import { registerClient } from './registration.js';
import { refreshGrant, type TokenEndpointClient } from './token-client.js';
import { parseRemoteAuthState, serializeRemoteAuthState, type RemoteAuthState } from './state.js';

export { remoteAuthStateKey, parseRemoteAuthState, type RemoteAuthState } from './state.js';
export { discoverRemoteAuth, canonicalResource, parseBearerChallenge, wellKnownMetadataUrls } from './discovery.js';

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
  readonly monitor: TokenMonitor;
  stop(): void;
}

/**
 * OAuth credentials for one remote MCP server (SPEC §5.2): reuses the stored session when it still
 * works, otherwise discovers the authorization server, registers a client when none was given,
 * runs the PKCE browser login, then keeps the token fresh with the token monitor.
 */
export async function createOAuthCredentials(options: OAuthCredentialsOptions): Promise<OAuthCredentials> {
  const { log, clock } = options;
  let state = usableState(parseRemoteAuthState(options.stored), options);
  const resumed = state ? await resumeSession(state, options) : undefined;
  let tokens = typeof resumed === 'object' ? resumed : undefined;
  if (!state || !tokens) {
    // A client the server no longer knows is registered anew rather than reused.
    state = await login(resumed === 'client_rejected' ? undefined : state, options);
    tokens = tokensOf(state)!;
  }
  const current: RemoteAuthState = state;
  const client = endpointClient(current, options);
  const save = async (next: TokenSet) => {
    current.access_token = next.accessToken;
    if (next.refreshToken) current.refresh_token = next.refreshToken;
    if (next.expiresAt !== undefined) current.expires_at = next.expiresAt;
    else delete current.expires_at;
    await options.save(serializeRemoteAuthState(current));
  };
  const monitor = new TokenMonitor({
    initial: tokens,
    refresh: (t, signal) => refreshGrant(client, t.refreshToken!, signal),
    onTokens: save,
    onStatus: options.onStatus,
    clock,
    log,
    timings: options.timings ?? DEFAULT_MONITOR_TIMINGS,
    ...(current.dynamic_client ? { permanentFailureHint: STALE_CLIENT_HINT } : {}),
  });
  monitor.start();
  return {
    monitor,
    headers: async () => ({ authorization: `Bearer ${await monitor.accessToken()}` }),
    refreshAfterUnauthorized: () => monitor.refreshAfterUnauthorized(),
    stop: () => monitor.stop(),
  };
}

/** Stored state is used only for the same server and, when given, the same issuer and client. */
function usableState(state: RemoteAuthState | undefined, options: OAuthCredentialsOptions): RemoteAuthState | undefined {
  if (!state || state.server_url !== options.serverUrl) return undefined;
  if (options.settings.issuer && state.issuer !== options.settings.issuer) return undefined;
  if (options.settings.clientId && state.client_id !== options.settings.clientId) return undefined;
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
async function resumeSession(state: RemoteAuthState, options: OAuthCredentialsOptions): Promise<TokenSet | 'client_rejected' | undefined> {
  const tokens = tokensOf(state);
  if (!tokens) return undefined;
  const fresh = tokens.accessToken !== '' && (tokens.expiresAt === undefined || tokens.expiresAt > options.clock.now() + 1000);
  if (fresh) return tokens;
  if (!tokens.refreshToken) return undefined;
  try {
    const next = await refreshGrant(endpointClient(state, options), tokens.refreshToken);
    const merged = { ...next, ...(next.refreshToken ? {} : { refreshToken: tokens.refreshToken }) };
    state.access_token = merged.accessToken;
    state.refresh_token = merged.refreshToken;
    if (merged.expiresAt !== undefined) state.expires_at = merged.expiresAt;
    await options.save(serializeRemoteAuthState(state));
    return merged;
  } catch (err) {
    const failure = classifyFetchError(err);
    if (failure.kind === 'transient') {
      options.log.warn({ reason: failure.reason }, 'could not refresh the stored token yet; the token monitor keeps trying');
      return tokens;
    }
    options.log.warn({ reason: failure.reason }, 'the stored session was refused; a new login is needed');
    if (failure.oauthError === 'invalid_client' || failure.oauthError === 'unauthorized_client') {
      if (state.dynamic_client) options.log.warn(STALE_CLIENT_HINT);
      return 'client_rejected';
    }
    return undefined;
  }
}

async function login(previous: RemoteAuthState | undefined, options: OAuthCredentialsOptions): Promise<RemoteAuthState> {
  const { settings, log } = options;
  const found = await discoverRemoteAuth(options.serverUrl, {
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.resource ? { resource: settings.resource } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const scopes = settings.scopes?.length ? settings.scopes : found.scopes;
  const callbackPort = settings.callbackPort ?? DEFAULT_CALLBACK_PORT;
  let client: { clientId: string; clientSecret?: string; authMethod?: string; dynamic: boolean };
  if (settings.clientId) {
    client = { clientId: settings.clientId, ...(settings.clientSecret ? { clientSecret: settings.clientSecret } : {}), dynamic: false };
  } else if (previous?.dynamic_client && previous.issuer === found.issuer) {
    client = {
      clientId: previous.client_id,
      ...(previous.client_secret ? { clientSecret: previous.client_secret } : {}),
      ...(previous.token_endpoint_auth_method ? { authMethod: previous.token_endpoint_auth_method } : {}),
      dynamic: true,
    };
  } else {
    const registered = await registerClient(found.metadata, {
      redirectUri: `http://localhost:${callbackPort}/callback`,
      scopes,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    log.info({ issuer: found.issuer }, 'registered an OAuth client dynamically');
    client = { ...registered, dynamic: true };
  }
  const pending = await beginAuthorization({
    issuer: found.metadata,
    clientId: client.clientId,
    scopes,
    resource: found.resource,
    callbackPort,
    portHint: '--remote-auth-callback-port',
    timeoutMs: settings.timeoutMs ?? DEFAULT_FLOW_TIMEOUT_MS,
    clock: options.clock,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  options.onStatus('unauthenticated', `OAuth login required: open ${pending.authorizationUrl}`);
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
    ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
    ...(client.authMethod ? { token_endpoint_auth_method: client.authMethod } : {}),
    dynamic_client: client.dynamic,
    scopes,
    access_token: tokens.accessToken,
    ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}),
    ...(tokens.expiresAt !== undefined ? { expires_at: tokens.expiresAt } : {}),
  };
  await options.save(serializeRemoteAuthState(state));
  log.info('OAuth login for the remote server completed');
  return state;
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
