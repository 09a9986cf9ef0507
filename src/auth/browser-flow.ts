import * as oauth from 'oauth4webapi';
import { ThvError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import { envDuration } from '../core/env.js';
import { log } from '../core/log.js';
import { startCallbackServer } from './callback-server.js';
import { exchangeCode, type Tokens } from './oauth-client.js';
import type { IssuerMetadata } from './oidc-discovery.js';
import type { UrlOpener } from './opener.js';
import { createAuthorizationSecrets } from './pkce.js';

export const DEFAULT_CALLBACK_PORT = 8666;
export const DEFAULT_FLOW_TIMEOUT_MS = 120_000;

export interface AuthorizationRequest {
  issuer: IssuerMetadata;
  clientId: string;
  /** Only for a confidential client; thv's registry client has none. */
  clientSecret?: string;
  /** How a confidential client authenticates (RFC 8414 name); see OAuthClient. */
  authMethod?: string;
  scopes: string[];
  /** Sent as `audience` (Auth0, Okta and others use it to pick the API the token is for). */
  audience?: string;
  /** RFC 8707 resource indicator. */
  resource?: string;
  extraParams?: Record<string, string>;
  callbackPort: number;
  /** How the user changes the port, for the "port in use" message. */
  portHint?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
  clock?: Clock;
}

/** A login in progress; `result` settles once, and the callback port is closed by then. */
export interface PendingAuthorization {
  authorizationUrl: string;
  redirectUri: string;
  result: Promise<Tokens>;
  cancel(reason?: string): void;
}

export function flowTimeoutFromEnv(env: NodeJS.ProcessEnv): number {
  return envDuration(env, 'TOOLHIVE_OAUTH_FLOW_TIMEOUT', DEFAULT_FLOW_TIMEOUT_MS);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
}

/**
 * Starts an authorization code + PKCE login (RFC 6749 §4.1, RFC 7636, RFC 8252) and returns its URL
 * without opening anything, so a headless caller (the REST API) can hand the URL to a UI.
 */
export async function beginAuthorization(request: AuthorizationRequest): Promise<PendingAuthorization> {
  const clock = request.clock ?? systemClock;
  const secrets = await createAuthorizationSecrets();
  const server = await startCallbackServer({ port: request.callbackPort, ...(request.portHint ? { portHint: request.portHint } : {}) });
  let authorizationUrl: string;
  try {
    authorizationUrl = buildAuthorizationUrl(request, server.redirectUri, secrets);
  } catch (err) {
    await server.close();
    throw err;
  }
  const abort = new AbortController();
  const cancelled = new Promise<never>((_, reject) => {
    abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
  });
  const timedOut = clock.sleep(request.timeoutMs, abort.signal).then(() => {
    throw new ThvError('auth_failed', `the browser login did not complete within ${formatDuration(request.timeoutMs)}`, {
      hint: `Complete the login in the browser sooner, or set TOOLHIVE_OAUTH_FLOW_TIMEOUT (e.g. 5m) to wait longer.`,
    });
  });
  const result = (async () => {
    try {
      const params = await Promise.race([server.callback, timedOut, cancelled]);
      await server.close();
      const validated = validateCallback(request, params, secrets.state);
      return await exchangeCode(
        {
          issuer: request.issuer,
          clientId: request.clientId,
          ...(request.clientSecret ? { clientSecret: request.clientSecret } : {}),
          ...(request.authMethod ? { authMethod: request.authMethod } : {}),
          ...(request.fetch ? { fetch: request.fetch } : {}),
          now: () => clock.now(),
        },
        validated,
        server.redirectUri,
        secrets.codeVerifier,
        // RFC 8707 §2.2: the token request names the resource too.
        request.resource ? { resource: request.resource } : {},
      );
    } finally {
      await server.close();
      if (!abort.signal.aborted) abort.abort(new ThvError('auth_failed', 'the browser login has finished'));
    }
  })();
  // The caller may fail (e.g. the opener) before awaiting the result; that must not crash the process.
  result.catch(() => undefined);
  timedOut.catch(() => undefined);
  return {
    authorizationUrl,
    redirectUri: server.redirectUri,
    result,
    cancel(reason = 'the browser login was cancelled') {
      if (!abort.signal.aborted) abort.abort(new ThvError('auth_failed', reason));
    },
  };
}

export interface BrowserFlowIO {
  opener: UrlOpener;
  /** Where the URL is printed for the user; always called, whether or not a browser opens. */
  err: (text: string) => void;
}

/** The interactive login: print the URL, open it, wait for the callback or the timeout. */
export async function runBrowserFlow(request: AuthorizationRequest, io: BrowserFlowIO): Promise<Tokens> {
  const pending = await beginAuthorization(request);
  io.err(`Opening your browser to log in. If it does not open, visit this URL:\n\n  ${pending.authorizationUrl}\n\n`);
  try {
    await io.opener(pending.authorizationUrl);
  } catch (err) {
    log().warn({ error: err instanceof Error ? err.message : String(err) }, 'could not open a browser; open the URL shown above');
  }
  return pending.result;
}

function buildAuthorizationUrl(
  request: AuthorizationRequest,
  redirectUri: string,
  secrets: { codeChallenge: string; state: string },
): string {
  const url = new URL(request.issuer.authorization_endpoint!);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: redirectUri,
    scope: request.scopes.join(' '),
    state: secrets.state,
    code_challenge: secrets.codeChallenge,
    code_challenge_method: 'S256',
    ...(request.audience ? { audience: request.audience } : {}),
    ...(request.resource ? { resource: request.resource } : {}),
    ...request.extraParams,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

function validateCallback(request: AuthorizationRequest, params: URLSearchParams, state: string): URLSearchParams {
  checkResponseIssuer(request.issuer, params);
  try {
    return oauth.validateAuthResponse(request.issuer, { client_id: request.clientId }, params, state);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      const description = err.error_description ? `: ${err.error_description.slice(0, 200)}` : '';
      throw new ThvError('auth_failed', `the identity provider refused the login (${err.error}${description})`, {
        hint: 'Check the OAuth settings (issuer, client id, scopes, audience) and try again.',
      });
    }
    const what = params.get('state') !== state ? 'its state does not match the one thv sent' : 'it is malformed or comes from another issuer';
    throw new ThvError('auth_failed', `refused the login callback: ${what}`, {
      hint: 'Start the login again, and complete it only in the browser window thv opened.',
    });
  }
}

/**
 * RFC 9207: an authorization response names the issuer that produced it. One that names another
 * issuer, or names none although this issuer says it always does, may have been answered by a
 * different authorization server (a mix-up attack), so its code must not be sent to our token
 * endpoint. Checked before anything else in the response, errors included (docs/remote-auth.md).
 */
export function checkResponseIssuer(issuer: IssuerMetadata, params: URLSearchParams): void {
  const iss = params.get('iss');
  const hint = 'Start the login again; if it keeps failing, check that the server and issuer URLs are the ones you expect.';
  if (iss !== null && iss !== issuer.issuer) {
    throw new ThvError('auth_failed', `refused the login callback: it names issuer "${iss.slice(0, 200)}", not "${issuer.issuer}" (RFC 9207), so another authorization server may have answered`, { hint });
  }
  if (iss === null && issuer.authorization_response_iss_parameter_supported === true) {
    throw new ThvError('auth_failed', `refused the login callback: it carries no iss parameter although ${issuer.issuer} says it always sends one (RFC 9207)`, { hint });
  }
}
