import * as oauth from 'oauth4webapi';
import { ThvError } from '../core/errors.js';
import { basicAuthorization } from './client-basic.js';
import { fetchWithBodyLimit } from '../core/http.js';
import { networkReason, type IssuerMetadata } from './oidc-discovery.js';

/** What a token endpoint gave us. `expiresAt` is ms since the epoch. */
export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  scope?: string;
}

/**
 * The client as the token endpoint sees it. thv's registry client is public (no secret; PKCE
 * protects the code, as RFC 8252 wants for native apps); a confidential client (a remote server's
 * pre-registered client) passes its secret.
 */
export interface OAuthClient {
  issuer: IssuerMetadata;
  clientId: string;
  clientSecret?: string;
  /** `client_secret_basic` or `client_secret_post` as registered; otherwise chosen from the IdP's metadata. */
  authMethod?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

/** A client without a secret (thv's own registry client). */
export type PublicClient = OAuthClient;

/** client_secret_basic unless the IdP lists only client_secret_post (RFC 8414 defaults to basic). */
function clientAuthentication(client: OAuthClient): oauth.ClientAuth {
  if (!client.clientSecret) return oauth.None();
  if (client.authMethod === 'client_secret_post') return oauth.ClientSecretPost(client.clientSecret);
  if (client.authMethod === 'client_secret_basic') return clientSecretBasic(client.clientSecret);
  const methods = client.issuer.token_endpoint_auth_methods_supported;
  if (Array.isArray(methods) && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
    return oauth.ClientSecretPost(client.clientSecret);
  }
  return clientSecretBasic(client.clientSecret);
}

/** oauth4webapi's ClientSecretBasic over-escapes the client id; see client-basic.ts. */
function clientSecretBasic(secret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    headers.set('authorization', basicAuthorization(client.client_id, secret));
  };
}

const TOKEN_TIMEOUT_MS = 30_000;
/** Token, revocation and error responses are small; anything larger is refused unread. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

function boundedFetch(client: OAuthClient): typeof fetch {
  return fetchWithBodyLimit(client.fetch ?? fetch, MAX_TOKEN_RESPONSE_BYTES);
}

function requestOptions(client: OAuthClient, extra: Record<string, string> = {}): oauth.TokenEndpointRequestOptions {
  const options: oauth.TokenEndpointRequestOptions = {
    signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    additionalParameters: extra,
  };
  if (new URL(client.issuer.token_endpoint!).protocol === 'http:') options[oauth.allowInsecureRequests] = true;
  options[oauth.customFetch] = boundedFetch(client) as never;
  return options;
}

function toTokens(response: oauth.TokenEndpointResponse, now: number): Tokens {
  return {
    accessToken: response.access_token,
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
    ...(typeof response.expires_in === 'number' ? { expiresAt: now + response.expires_in * 1000 } : {}),
    ...(response.scope ? { scope: response.scope } : {}),
  };
}

export async function exchangeCode(
  client: OAuthClient,
  params: URLSearchParams,
  redirectUri: string,
  codeVerifier: string,
  extra: Record<string, string> = {},
): Promise<Tokens> {
  const c: oauth.Client = { client_id: client.clientId };
  try {
    const response = await oauth.authorizationCodeGrantRequest(client.issuer, c, clientAuthentication(client), params, redirectUri, codeVerifier, requestOptions(client, extra));
    return toTokens(await oauth.processAuthorizationCodeResponse(client.issuer, c, response), (client.now ?? Date.now)());
  } catch (err) {
    throw tokenEndpointError('exchange the authorization code', err);
  }
}

export async function refreshTokens(client: OAuthClient, refreshToken: string): Promise<Tokens> {
  const c: oauth.Client = { client_id: client.clientId };
  try {
    const response = await oauth.refreshTokenGrantRequest(client.issuer, c, clientAuthentication(client), refreshToken, requestOptions(client));
    return toTokens(await oauth.processRefreshTokenResponse(client.issuer, c, response), (client.now ?? Date.now)());
  } catch (err) {
    throw tokenEndpointError('refresh the access token', err);
  }
}

/** RFC 7009; resolves false when the issuer offers no revocation endpoint. */
export async function revokeToken(client: OAuthClient, token: string, hint: 'refresh_token' | 'access_token'): Promise<boolean> {
  if (!client.issuer.revocation_endpoint) return false;
  const c: oauth.Client = { client_id: client.clientId };
  const options: oauth.RevocationRequestOptions = {
    signal: AbortSignal.timeout(10_000),
    additionalParameters: { token_type_hint: hint },
  };
  if (new URL(client.issuer.revocation_endpoint).protocol === 'http:') options[oauth.allowInsecureRequests] = true;
  options[oauth.customFetch] = boundedFetch(client) as never;
  try {
    await oauth.processRevocationResponse(await oauth.revocationRequest(client.issuer, c, clientAuthentication(client), token, options));
    return true;
  } catch (err) {
    throw tokenEndpointError('revoke the refresh token', err);
  }
}

/**
 * An error from a token endpoint, described without the request or response bodies (they may hold
 * tokens). `oauthError` is the RFC 6749 code when the IdP gave one: those are permanent.
 */
export class TokenEndpointError extends ThvError {
  constructor(
    message: string,
    readonly oauthError: string | undefined,
    readonly status: number | undefined,
  ) {
    super('auth_failed', message);
    this.name = 'TokenEndpointError';
  }
}

function tokenEndpointError(doing: string, err: unknown): TokenEndpointError {
  if (err instanceof oauth.ResponseBodyError) {
    const description = typeof err.error_description === 'string' ? `: ${err.error_description.slice(0, 200)}` : '';
    return new TokenEndpointError(`the identity provider refused to ${doing} (${err.error}${description})`, err.error, err.status);
  }
  if (err instanceof oauth.OperationProcessingError) {
    const status = (err.cause as Response | undefined)?.status;
    return new TokenEndpointError(`the identity provider's answer when trying to ${doing} was not usable (${err.code ?? 'invalid response'})`, undefined, typeof status === 'number' ? status : undefined);
  }
  return new TokenEndpointError(`could not ${doing}: ${networkReason(err)}`, undefined, undefined);
}
