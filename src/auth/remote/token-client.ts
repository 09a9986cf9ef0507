import { classifyTokenResponse, TokenRequestError, type TokenResponse } from '../classify.js';
import { basicAuthorization } from '../client-basic.js';
import type { TokenSet } from '../monitor.js';

const TOKEN_TIMEOUT_MS = 30_000;

/** How thv talks to one token endpoint as one client. */
export interface TokenEndpointClient {
  tokenEndpoint: string;
  clientId: string;
  clientSecret?: string;
  /** RFC 7591 / RFC 8414 name; `client_secret_basic` unless the server asked for `client_secret_post`. */
  authMethod?: string;
  /** RFC 8707: sent with every grant so the token stays bound to the MCP server. */
  resource?: string;
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

/**
 * The RFC 6749 §6 refresh grant. Failures are thrown as TokenRequestError (classified by the §5.2
 * table) or as fetch's own error, which the monitor classifies.
 */
export async function refreshGrant(client: TokenEndpointClient, refreshToken: string, signal?: AbortSignal): Promise<TokenSet> {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  if (client.resource) body.set('resource', client.resource);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (client.clientSecret && client.authMethod !== 'client_secret_post') {
    headers.authorization = basicAuthorization(client.clientId, client.clientSecret);
  } else {
    body.set('client_id', client.clientId);
    if (client.clientSecret) body.set('client_secret', client.clientSecret);
  }
  const timeout = AbortSignal.timeout(client.timeoutMs ?? TOKEN_TIMEOUT_MS);
  const res = await (client.fetch ?? fetch)(client.tokenEndpoint, {
    method: 'POST',
    headers,
    body,
    redirect: 'error',
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  const now = (client.now ?? Date.now)();
  const outcome = await classifyTokenResponse(res, now);
  if (!outcome.ok) throw new TokenRequestError(outcome.failure);
  return toTokenSet(outcome.tokens, now);
}

export function toTokenSet(tokens: TokenResponse, now: number): TokenSet {
  return {
    accessToken: tokens.access_token,
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.expires_in !== undefined ? { expiresAt: now + tokens.expires_in * 1000 } : {}),
  };
}
