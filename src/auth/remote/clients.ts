import type { Logger } from '../../core/log.js';
import { ThvError } from '../../core/errors.js';
import { discoverIssuer, type IssuerMetadata } from '../oidc-discovery.js';
import { CLIENT_METADATA_URL_ENV } from './cimd.js';
import { ASK_FOR_A_CLIENT, registerClient, updateClientRegistration, type RegisteredClient } from './registration.js';
import type { RemoteAuthState, StoredClient } from './state.js';

/** The client a login uses, and how thv came by it. */
export interface ActiveClient {
  kind: 'pre-registered' | 'cimd' | 'dcr';
  clientId: string;
  clientSecret?: string;
  authMethod?: string;
  /** What to keep for this issuer (CIMD and DCR clients). */
  stored?: StoredClient;
}

export interface ChooseClientInput {
  settings: { clientId?: string; clientSecret?: string; clientMetadataUrl?: string };
  issuer: string;
  metadata: IssuerMetadata;
  /** The client kept for this issuer from an earlier session, if any. */
  stored: StoredClient | undefined;
  redirectUri: string;
  scopes: string[];
  now: number;
  log: Logger;
  fetch?: typeof fetch;
}

/** A secret is renewed this long before it expires, at most: half its lifetime for short-lived ones. */
const RENEW_LEAD_MS = 24 * 3600_000;

/**
 * The MCP authorization spec's registration order (docs/remote-auth.md#registration-order):
 * 1. a pre-registered client (`--remote-auth-client-id`, with its secret if any);
 * 2. thv's Client ID Metadata Document, when the authorization server advertises
 *    `client_id_metadata_document_supported` and thv has a document URL;
 * 3. dynamic client registration (RFC 7591; deprecated by the spec), reusing the client registered
 *    with this issuer before when it still fits;
 * 4. otherwise the user is asked for a client, with a hint naming the flags.
 */
export async function chooseClient(input: ChooseClientInput): Promise<ActiveClient> {
  const { settings, metadata, log } = input;
  if (settings.clientId) {
    return { kind: 'pre-registered', clientId: settings.clientId, ...(settings.clientSecret ? { clientSecret: settings.clientSecret } : {}) };
  }
  const cimdSupported = (metadata as Record<string, unknown>).client_id_metadata_document_supported === true;
  if (cimdSupported && settings.clientMetadataUrl) {
    return {
      kind: 'cimd',
      clientId: settings.clientMetadataUrl,
      authMethod: 'none',
      stored: { kind: 'cimd', client_id: settings.clientMetadataUrl, token_endpoint_auth_method: 'none', obtained_at: input.now },
    };
  }
  if (cimdSupported) log.info({ issuer: input.issuer }, `the authorization server accepts Client ID Metadata Documents, but ${CLIENT_METADATA_URL_ENV} is not set`);
  const stored = input.stored?.kind === 'dcr' ? input.stored : undefined;
  if (stored && fits(stored, input)) {
    const due = renewalDue(stored);
    const current = due !== undefined && due <= input.now ? await renewDcrClient(stored, metadata, input) : stored;
    return fromStored(current);
  }
  if (metadata.registration_endpoint) {
    const registered = await registerClient(metadata, { redirectUri: input.redirectUri, scopes: input.scopes, now: input.now, ...(input.fetch ? { fetch: input.fetch } : {}) });
    log.info({ issuer: input.issuer }, 'registered an OAuth client dynamically');
    return fromStored(toStored(registered, input.redirectUri, input.scopes, input.now));
  }
  throw new ThvError('auth_failed', `the authorization server ${input.issuer} gives thv no way to obtain a client: ${cimdSupported ? `it accepts Client ID Metadata Documents, but ${CLIENT_METADATA_URL_ENV} is not set,` : 'it does not accept Client ID Metadata Documents'} and offers no dynamic client registration`, {
    hint: cimdSupported ? `${ASK_FOR_A_CLIENT} Or publish thv's client metadata document and set ${CLIENT_METADATA_URL_ENV} (docs/remote-auth.md).` : ASK_FOR_A_CLIENT,
  });
}

/** A stored registration is reused only for the same redirect URI and scopes it covers. */
function fits(stored: StoredClient, input: ChooseClientInput): boolean {
  if (stored.redirect_uri && stored.redirect_uri !== input.redirectUri) return false;
  if (stored.scope !== undefined) {
    const registered = new Set(stored.scope.split(' ').filter(Boolean));
    if (input.scopes.some((s) => !registered.has(s))) return false;
  }
  if (stored.client_secret_expires_at !== undefined && stored.client_secret_expires_at <= input.now && !stored.registration_access_token) return false;
  return true;
}

function fromStored(stored: StoredClient): ActiveClient {
  return {
    kind: stored.kind,
    clientId: stored.client_id,
    ...(stored.client_secret ? { clientSecret: stored.client_secret } : {}),
    ...(stored.token_endpoint_auth_method ? { authMethod: stored.token_endpoint_auth_method } : {}),
    stored,
  };
}

function toStored(client: RegisteredClient, redirectUri: string, scopes: string[], now: number): StoredClient {
  return {
    kind: 'dcr',
    client_id: client.clientId,
    ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
    token_endpoint_auth_method: client.authMethod,
    ...(client.secretExpiresAt !== undefined ? { client_secret_expires_at: client.secretExpiresAt } : {}),
    obtained_at: now,
    ...(client.registrationClientUri ? { registration_client_uri: client.registrationClientUri } : {}),
    ...(client.registrationAccessToken ? { registration_access_token: client.registrationAccessToken } : {}),
    redirect_uri: redirectUri,
    scope: client.scope ?? scopes.join(' '),
  };
}

/** When the stored client's secret is to be renewed (ms since the epoch); undefined when it never expires. */
export function renewalDue(stored: StoredClient): number | undefined {
  const expires = stored.client_secret_expires_at;
  if (expires === undefined || !stored.client_secret) return undefined;
  const lifetime = expires - (stored.obtained_at ?? expires);
  return expires - Math.min(RENEW_LEAD_MS, Math.max(0, lifetime / 2));
}

/** The active session's registered client, when its secret expires: what to renew, and when. */
export function clientToRenew(state: RemoteAuthState, _now: number): { client: StoredClient; at: number } | undefined {
  const client = state.clients[state.issuer];
  if (!client || client.kind !== 'dcr' || client.client_id !== state.client_id) return undefined;
  const at = renewalDue(client);
  return at === undefined ? undefined : { client, at };
}

/**
 * Renews a registered client before its secret expires: RFC 7592 when the server offers client
 * management (same client id, new secret: the session's tokens keep working), else a new
 * registration (used by the next login).
 */
export async function renewClient(
  state: RemoteAuthState,
  client: StoredClient,
  options: { fetch?: typeof fetch; now: number; log: Logger },
): Promise<{ stored: StoredClient; how: 'rfc7592' | 'registered again' }> {
  const metadata = await discoverIssuer(state.issuer, options.fetch ? { fetch: options.fetch } : {});
  const input = { redirectUri: client.redirect_uri ?? '', scopes: (client.scope ?? '').split(' ').filter(Boolean), now: options.now, log: options.log, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const renewed = await renewDcrClient(client, metadata, input);
  return { stored: renewed, how: renewed.client_id === client.client_id ? 'rfc7592' : 'registered again' };
}

async function renewDcrClient(
  client: StoredClient,
  metadata: IssuerMetadata,
  input: { redirectUri: string; scopes: string[]; now: number; log: Logger; fetch?: typeof fetch },
): Promise<StoredClient> {
  const redirectUri = client.redirect_uri ?? input.redirectUri;
  const scopes = client.scope !== undefined ? client.scope.split(' ').filter(Boolean) : input.scopes;
  if (client.registration_client_uri && client.registration_access_token) {
    try {
      const updated = await updateClientRegistration(
        {
          clientId: client.client_id,
          ...(client.client_secret ? { clientSecret: client.client_secret } : {}),
          authMethod: client.token_endpoint_auth_method ?? 'none',
          registrationClientUri: client.registration_client_uri,
          registrationAccessToken: client.registration_access_token,
          redirectUri,
          scopes,
        },
        { ...(input.fetch ? { fetch: input.fetch } : {}), now: input.now },
      );
      // A server that keeps the old secret (and its expiry) has not renewed anything.
      if (updated.clientSecret && updated.clientSecret !== client.client_secret) return toStored(updated, redirectUri, scopes, input.now);
      input.log.info('the authorization server kept the client secret on update (RFC 7592); registering a new client');
    } catch (err) {
      input.log.warn({ err: (err as Error).message }, 'could not renew the client secret by RFC 7592; registering a new client');
    }
  }
  const registered = await registerClient(metadata, { redirectUri, scopes, now: input.now, ...(input.fetch ? { fetch: input.fetch } : {}) });
  return toStored(registered, redirectUri, scopes, input.now);
}
