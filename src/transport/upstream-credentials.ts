/**
 * What the remote proxy asks for credentials (docs/remote-auth.md#the-proxy). The remote-auth code (src/auth/remote)
 * implements it; the proxy only calls it.
 */
export interface UpstreamCredentials {
  /** Headers added to every proxied request. Throws AuthRetryingError {retryAfterSeconds} while auth is retrying → proxy answers 503 + Retry-After at once. */
  headers(): Promise<Record<string, string>>;
  /** After an upstream 401: resolves true when fresh credentials were obtained and a replayable request may be retried once. */
  refreshAfterUnauthorized?(): Promise<boolean>;
  /**
   * After an upstream 403 whose `WWW-Authenticate` says `insufficient_scope` (step-up): resolves true
   * when credentials with more scopes were obtained and the request may be replayed once; false to
   * relay the 403; throws (a ThvError saying why) when thv will not authorize again.
   */
  stepUpAfterForbidden?(wwwAuthenticate: string): Promise<boolean>;
  /**
   * Begins obtaining credentials in the background (an OAuth login, say), once the proxy listens.
   * From then on the credentials report the workload's status themselves.
   */
  start?(): void;
  /** Stops background work (token refresh, a pending login); called when the proxy stops. */
  close?(): Promise<void>;
}

export class AuthRetryingError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'authentication with the remote server is being retried',
  ) {
    super(message);
    this.name = 'AuthRetryingError';
  }
}

/** Credentials that are a fixed set of headers (e.g. a static bearer token). */
export function staticCredentials(headers: Record<string, string>): UpstreamCredentials {
  return { headers: async () => headers };
}
