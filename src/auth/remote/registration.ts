import { ThvError } from '../../core/errors.js';
import { networkReason, readLimited, type IssuerMetadata } from '../oidc-discovery.js';

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  authMethod: string;
}

/**
 * RFC 7591 dynamic client registration of thv as a native public client with a loopback redirect
 * URI (RFC 8252), used when the user gave no client id.
 */
export async function registerClient(
  metadata: IssuerMetadata,
  request: { redirectUri: string; scopes: string[]; fetch?: typeof fetch },
): Promise<RegisteredClient> {
  const endpoint = metadata.registration_endpoint;
  if (!endpoint) {
    throw new ThvError('auth_failed', `authorization server ${metadata.issuer} offers no dynamic client registration`, {
      hint: 'Register a client with the provider and pass --remote-auth-client-id.',
    });
  }
  let res: Response;
  try {
    res = await (request.fetch ?? fetch)(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        client_name: 'ToolHive (thv)',
        application_type: 'native',
        redirect_uris: [request.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        ...(request.scopes.length ? { scope: request.scopes.join(' ') } : {}),
      }),
      redirect: 'error',
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new ThvError('auth_failed', `could not register a client with ${metadata.issuer}: ${networkReason(err)}`, { cause: err });
  }
  const text = (await readLimited(res, 64 * 1024)) ?? '';
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (!res.ok || typeof body.client_id !== 'string') {
    const error = typeof body.error === 'string' ? ` (${body.error})` : '';
    throw new ThvError('auth_failed', `${metadata.issuer} refused the dynamic client registration: HTTP ${res.status}${error}`, {
      hint: 'Register a client with the provider and pass --remote-auth-client-id.',
    });
  }
  return {
    clientId: body.client_id,
    ...(typeof body.client_secret === 'string' ? { clientSecret: body.client_secret } : {}),
    authMethod: typeof body.token_endpoint_auth_method === 'string' ? body.token_endpoint_auth_method : 'none',
  };
}
