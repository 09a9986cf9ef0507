import { readBodyWithin } from '../core/http.js';

/**
 * Sorts every token-refresh failure into `transient` (try again later) or `permanent` (a person must
 * sign in again), by the table in docs/remote-auth.md#classification-srcauthclassifyts. Inputs are what the HTTP stack really produces: a fetch
 * Response, or the error fetch threw (undici wraps the system error in `cause`).
 */
export type FailureKind = 'transient' | 'permanent';

export interface RefreshFailure {
  kind: FailureKind;
  /** Safe to show and store: never holds a token, only status codes, OAuth error codes and causes. */
  reason: string;
  status?: number;
  /** The RFC 6749 `error` code when the server sent one. */
  oauthError?: string;
  /** From a `Retry-After` header, when the server asked for a pause. */
  retryAfterMs?: number;
}

/** The fields of a successful RFC 6749 §5.1 token response that thv uses. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
}

export type TokenOutcome = { ok: true; tokens: TokenResponse } | { ok: false; failure: RefreshFailure };

/** Thrown by token clients so that callers up the stack still see the classification. */
export class TokenRequestError extends Error {
  readonly failure: RefreshFailure;

  constructor(failure: RefreshFailure, options?: { cause?: unknown }) {
    super(failure.reason, options);
    this.name = 'TokenRequestError';
    this.failure = failure;
  }
}

// RFC 6749 §5.2 error codes are printable ASCII without `"` and `\`.
const OAUTH_ERROR_CODE = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,100}$/;

/**
 * These two codes belong to RFC 6749's authorization-endpoint errors, yet some servers send them
 * from the token endpoint while overloaded; they say "later", so they are not a reason to log out.
 */
const TRANSIENT_OAUTH_ERRORS = new Set(['temporarily_unavailable', 'server_error']);

const MAX_BODY_BYTES = 64 * 1024;

/** Reads a token endpoint's answer and either returns the tokens or the classified failure. */
export async function classifyTokenResponse(res: Response, now: number = Date.now()): Promise<TokenOutcome> {
  let body: string | undefined;
  try {
    body = await readBodyWithin(res, MAX_BODY_BYTES);
  } catch (err) {
    return { ok: false, failure: classifyFetchError(err) };
  }
  if (body === undefined) {
    // A token response is a few KiB; a huge one is a broken intermediary, so it is retried.
    return { ok: false, failure: { kind: 'transient', status: res.status, reason: `token endpoint answered HTTP ${res.status} with a body over 64 KiB` } };
  }
  if (res.ok) return parseSuccess(res.status, body);
  return { ok: false, failure: classifyErrorStatus(res.status, res.headers, body, now) };
}

function parseSuccess(status: number, body: string): TokenOutcome {
  const json = parseJsonObject(body);
  const accessToken = json?.access_token;
  const tokenType = json?.token_type;
  if (!json || typeof accessToken !== 'string' || accessToken === '' || typeof tokenType !== 'string') {
    return {
      ok: false,
      failure: { kind: 'transient', status, reason: `token endpoint answered HTTP ${status} without a usable token response` },
    };
  }
  const expiresIn = Number(json.expires_in);
  const tokens: TokenResponse = { access_token: accessToken, token_type: tokenType };
  if (json.expires_in !== undefined && Number.isFinite(expiresIn) && expiresIn > 0) tokens.expires_in = expiresIn;
  if (typeof json.refresh_token === 'string' && json.refresh_token !== '') tokens.refresh_token = json.refresh_token;
  if (typeof json.scope === 'string') tokens.scope = json.scope;
  return { ok: true, tokens };
}

function classifyErrorStatus(status: number, headers: Headers, body: string, now: number): RefreshFailure {
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), now);
  const withRetry = (f: RefreshFailure): RefreshFailure => (retryAfterMs === undefined ? f : { ...f, retryAfterMs });
  if (status >= 500 || status === 429 || status === 408) {
    return withRetry({ kind: 'transient', status, reason: `token endpoint answered HTTP ${status}` });
  }
  if (status < 400 || status > 499) {
    return { kind: 'transient', status, reason: `token endpoint answered an unexpected HTTP ${status}` };
  }
  const json = parseJsonObject(body);
  const code = json?.error;
  if (typeof code !== 'string' || !OAUTH_ERROR_CODE.test(code)) {
    // A WAF, CDN or captive portal speaks HTML or plain text; the IdP never decided anything.
    const what = /^\s*</.test(body) ? 'an HTML page' : 'a body that is not an OAuth error';
    return withRetry({ kind: 'transient', status, reason: `token endpoint answered HTTP ${status} with ${what}` });
  }
  const description = typeof json?.error_description === 'string' ? `: ${oneLine(json.error_description)}` : '';
  const kind: FailureKind = TRANSIENT_OAUTH_ERRORS.has(code) ? 'transient' : 'permanent';
  return withRetry({ kind, status, oauthError: code, reason: `token endpoint rejected the refresh (HTTP ${status} ${code}${description})` });
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the response',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
};

// OpenSSL verification results as Node reports them, plus Node's own TLS error codes.
const TLS_CODE = /CERT|_SIGNED_|UNABLE_TO_(GET|VERIFY|DECRYPT)|^ERR_TLS_|^ERR_SSL_|^ERR_OSSL_|HOSTNAME_MISMATCH|^EPROTO$/;

/** Classifies whatever fetch threw: a network, DNS or timeout failure is transient, a TLS one permanent. */
export function classifyFetchError(err: unknown): RefreshFailure {
  if (err instanceof TokenRequestError) return err.failure;
  const chain = causeChain(err);
  if (chain.some((e) => e.name === 'TimeoutError')) {
    return { kind: 'transient', reason: 'token request timed out' };
  }
  for (const e of chain) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (!code) continue;
    if (TLS_CODE.test(code)) return { kind: 'permanent', reason: `TLS failure talking to the token endpoint (${code})` };
    const what = NETWORK_CODES[code];
    if (what) return { kind: 'transient', reason: `token request failed: ${what} (${code})` };
  }
  if (chain.some((e) => e.name === 'AbortError')) return { kind: 'transient', reason: 'token request was aborted' };
  // Unknown failures are retried: the 24 h ceiling still ends a failure that never heals.
  const last = chain[chain.length - 1];
  return { kind: 'transient', reason: `token request failed: ${last ? oneLine(last.message) : String(err)}` };
}

function causeChain(err: unknown): Array<Error & { code?: unknown }> {
  const out: Array<Error & { code?: unknown }> = [];
  let current: unknown = err;
  while (current instanceof Error && out.length < 8) {
    out.push(current as Error & { code?: unknown });
    current = (current as { cause?: unknown }).cause;
  }
  // DOMException is not an Error subclass on every Node version.
  if (out.length === 0 && typeof err === 'object' && err !== null && 'name' in err) {
    out.push(err as Error);
  }
  return out;
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from `now`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
