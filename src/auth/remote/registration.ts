import { ThvError, redactUrl } from '../../core/errors.js';
import { networkReason, readLimited, type IssuerMetadata } from '../oidc-discovery.js';

/** A client thv registered itself (RFC 7591), as the server answered. */
export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  authMethod: string;
  /** ms since the epoch when the secret stops working; undefined when it never expires (RFC 7591 `0`). */
  secretExpiresAt?: number;
  /** RFC 7592 client configuration endpoint and its token, when the server offers management. */
  registrationClientUri?: string;
  registrationAccessToken?: string;
  /** The scope registered; a login asking for more registers again (docs/remote-auth.md#step-up). */
  scope?: string;
}

export interface RegistrationRequest {
  redirectUri: string;
  scopes: string[];
  fetch?: typeof fetch;
}

const REGISTRATION_TIMEOUT_MS = 30_000;
const ASK_FOR_A_CLIENT = 'Register thv as a client with the provider (redirect URI http://localhost:<callback port>/callback) and pass --remote-auth-client-id (and --remote-auth-client-secret-file for a confidential client).';

/** The metadata thv registers with; RFC 7592 updates must repeat it. */
function clientMetadata(request: { redirectUri: string; scopes: string[] }): Record<string, unknown> {
  return {
    client_name: 'ToolHive (thv)',
    // The MCP authorization spec: DCR clients declare what they are; thv is a native app (RFC 8252).
    application_type: 'native',
    redirect_uris: [request.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...(request.scopes.length ? { scope: request.scopes.join(' ') } : {}),
  };
}

/**
 * RFC 7591 dynamic client registration of thv as a native public client with a loopback redirect
 * URI (RFC 8252). Deprecated by the MCP authorization spec in favour of Client ID Metadata
 * Documents; used when the server offers no other way (docs/remote-auth.md#registration-order).
 */
export async function registerClient(metadata: IssuerMetadata, request: RegistrationRequest & { now: number }): Promise<RegisteredClient> {
  const endpoint = metadata.registration_endpoint;
  if (!endpoint) {
    throw new ThvError('auth_failed', `authorization server ${metadata.issuer} offers no dynamic client registration`, { hint: ASK_FOR_A_CLIENT });
  }
  const body = await send(endpoint, 'POST', clientMetadata(request), undefined, request.fetch, `register a client with ${metadata.issuer}`);
  return parseRegistration(body, request.now, `${metadata.issuer} refused the dynamic client registration`);
}

/**
 * RFC 7592 §2.2: updates a registered client with the metadata it was registered with. Servers
 * that rotate secrets answer with a new `client_secret` and `client_secret_expires_at`; the client
 * id stays, so the tokens issued to it keep working.
 */
export async function updateClientRegistration(
  client: RegisteredClient & { redirectUri: string; scopes: string[] },
  options: { fetch?: typeof fetch; now: number },
): Promise<RegisteredClient> {
  if (!client.registrationClientUri || !client.registrationAccessToken) {
    throw new ThvError('auth_failed', 'the authorization server offers no client management (RFC 7592) for this client');
  }
  const uri = new URL(client.registrationClientUri);
  if (uri.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(uri.hostname)) {
    throw new ThvError('auth_failed', `refusing to send the registration access token to ${redactUrl(uri.href)} over plain http`);
  }
  const body = await send(
    uri.href,
    'PUT',
    { ...clientMetadata(client), client_id: client.clientId, token_endpoint_auth_method: client.authMethod },
    client.registrationAccessToken,
    options.fetch,
    'update the client registration',
  );
  const updated = parseRegistration(body, options.now, 'the authorization server refused the client update');
  if (updated.clientId !== client.clientId) throw new ThvError('auth_failed', 'the client update answered for another client');
  return {
    ...updated,
    // RFC 7592 §2.2: an answer without a new token means the old one stays valid.
    registrationClientUri: updated.registrationClientUri ?? client.registrationClientUri,
    registrationAccessToken: updated.registrationAccessToken ?? client.registrationAccessToken,
  };
}

async function send(
  url: string,
  method: 'POST' | 'PUT',
  payload: Record<string, unknown>,
  bearer: string | undefined,
  doFetch: typeof fetch | undefined,
  doing: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await (doFetch ?? fetch)(url, {
      method,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify(payload),
      redirect: 'error',
      signal: AbortSignal.timeout(REGISTRATION_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ThvError('auth_failed', `could not ${doing}: ${networkReason(err)}`, { cause: err });
  }
  const text = (await readLimited(res, 64 * 1024)) ?? '';
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // reported by the caller from the status
  }
  if (!res.ok) body = { error: body.error, status: res.status };
  return { status: res.status, body };
}

function parseRegistration(answer: { status: number; body: Record<string, unknown> }, now: number, refused: string): RegisteredClient {
  const { body } = answer;
  if (answer.status >= 300 || typeof body.client_id !== 'string') {
    // Never the body itself: a registration answer carries secrets.
    const error = typeof body.error === 'string' ? ` (${body.error.slice(0, 100)})` : '';
    throw new ThvError('auth_failed', `${refused}: HTTP ${answer.status}${error}`, { hint: ASK_FOR_A_CLIENT });
  }
  const expires = typeof body.client_secret_expires_at === 'number' && body.client_secret_expires_at > 0 ? body.client_secret_expires_at * 1000 : undefined;
  // A secret that expires at or before the answer is useless; count it as expiring now.
  return {
    clientId: body.client_id,
    ...(typeof body.client_secret === 'string' ? { clientSecret: body.client_secret } : {}),
    authMethod: typeof body.token_endpoint_auth_method === 'string' ? body.token_endpoint_auth_method : typeof body.client_secret === 'string' ? 'client_secret_basic' : 'none',
    ...(expires !== undefined && typeof body.client_secret === 'string' ? { secretExpiresAt: Math.max(expires, now) } : {}),
    ...(typeof body.registration_client_uri === 'string' ? { registrationClientUri: body.registration_client_uri } : {}),
    ...(typeof body.registration_access_token === 'string' ? { registrationAccessToken: body.registration_access_token } : {}),
    ...(typeof body.scope === 'string' ? { scope: body.scope } : {}),
  };
}

export { ASK_FOR_A_CLIENT };
