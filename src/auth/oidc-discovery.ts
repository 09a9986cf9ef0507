import type { AuthorizationServer } from 'oauth4webapi';
import { ThvError } from '../core/errors.js';
import { readBodyWithin } from '../core/http.js';

/** Discovery documents are small; a hostile server must not be able to exhaust memory. */
const MAX_DOCUMENT_BYTES = 512 * 1024;
const DISCOVERY_TIMEOUT_MS = 10_000;

export type IssuerMetadata = AuthorizationServer;

export interface DiscoverOptions {
  fetch?: typeof fetch;
  /** When true (the default), plain http is accepted only for a loopback issuer. */
  allowHttpLoopbackOnly?: boolean;
  timeoutMs?: number;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** True when requests to this URL go over plain http, which oauth4webapi must be told about. */
export function needsInsecureRequests(url: string): boolean {
  return new URL(url).protocol === 'http:';
}

/**
 * Checks the shape of an issuer identifier: an absolute https URL (http only on loopback), with no
 * query, fragment or credentials, as OIDC Discovery and RFC 8414 require.
 */
export function checkIssuerUrl(issuer: string, allowHttpLoopbackOnly = true): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ThvError('bad_request', `issuer "${issuer}" is not a valid URL`, {
      hint: 'Give the issuer as an absolute https:// URL, e.g. https://idp.example.com.',
    });
  }
  const hint = 'Use an https:// issuer URL (plain http is accepted only for localhost and 127.0.0.1).';
  if (url.protocol === 'http:') {
    if (allowHttpLoopbackOnly && !isLoopbackUrl(url)) {
      throw new ThvError('bad_request', `issuer ${url.origin} uses plain http, which is refused outside localhost`, { hint });
    }
  } else if (url.protocol !== 'https:') {
    throw new ThvError('bad_request', `issuer "${issuer}" must be an https:// URL`, { hint });
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ThvError('bad_request', `issuer "${url.origin}${url.pathname}" must not carry a query, fragment or credentials`, { hint });
  }
  return url;
}

function discoveryUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/+$/, '');
  return [
    // OIDC Discovery §4: the well-known suffix is appended to the issuer's path.
    `${issuer.origin}${path}/.well-known/openid-configuration`,
    // RFC 8414 §3.1: the well-known segment is inserted between the host and the path.
    `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/**
 * Fetches the issuer's metadata and refuses a document whose `issuer` is not exactly the configured
 * one (OIDC Discovery §4.3, RFC 8414 §3.3): anything else could hand our tokens to someone else.
 */
export async function discoverIssuer(issuer: string, options: DiscoverOptions = {}): Promise<IssuerMetadata> {
  const issuerUrl = checkIssuerUrl(issuer, options.allowHttpLoopbackOnly ?? true);
  const doFetch = options.fetch ?? fetch;
  const failures: string[] = [];
  for (const url of discoveryUrls(issuerUrl)) {
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs ?? DISCOVERY_TIMEOUT_MS),
      });
    } catch (err) {
      // An identity provider we cannot reach is an outage, not a failed login (exit 5, not 3).
      throw new ThvError('upstream_unavailable', `could not reach issuer ${issuerUrl.origin} for discovery: ${networkReason(err)}`, {
        cause: err,
        hint: 'Check the issuer URL and your network connection.',
      });
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      failures.push(`${url} answered HTTP ${response.status}`);
      continue;
    }
    const doc = await readDocument(response, url);
    if (doc.issuer !== issuer) {
      throw new ThvError(
        'bad_request',
        `the discovery document at ${url} names issuer "${String(doc.issuer)}", not the configured "${issuer}"; refusing it as a possible hijack`,
        { hint: 'Configure the issuer exactly as the identity provider publishes it (including any trailing slash).' },
      );
    }
    checkEndpoints(doc, issuer, options.allowHttpLoopbackOnly ?? true);
    return doc as IssuerMetadata;
  }
  throw new ThvError('bad_request', `issuer ${issuer} publishes no discovery document (${failures.join('; ')})`, {
    hint: 'Check the issuer URL: it must serve /.well-known/openid-configuration or /.well-known/oauth-authorization-server.',
  });
}

async function readDocument(response: Response, url: string): Promise<Record<string, unknown>> {
  const text = await readLimited(response, MAX_DOCUMENT_BYTES);
  if (text === undefined) {
    throw new ThvError('bad_request', `the discovery document at ${url} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ThvError('bad_request', `the discovery document at ${url} is not JSON`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ThvError('bad_request', `the discovery document at ${url} is not a JSON object`);
  }
  return doc as Record<string, unknown>;
}

function checkEndpoints(doc: Record<string, unknown>, issuer: string, allowHttpLoopbackOnly: boolean): void {
  for (const name of ['authorization_endpoint', 'token_endpoint']) {
    if (typeof doc[name] !== 'string') {
      throw new ThvError('bad_request', `issuer ${issuer} does not advertise a ${name}`, {
        hint: 'The identity provider must support the authorization code flow.',
      });
    }
  }
  for (const name of ['authorization_endpoint', 'token_endpoint', 'revocation_endpoint', 'registration_endpoint']) {
    const value = doc[name];
    if (typeof value !== 'string') continue;
    try {
      checkIssuerUrl(value.split('?')[0]!, allowHttpLoopbackOnly);
    } catch {
      throw new ThvError('bad_request', `issuer ${issuer} advertises an insecure or invalid ${name}`);
    }
  }
  const methods = doc.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) {
    throw new ThvError('bad_request', `issuer ${issuer} does not support PKCE with S256, which thv requires`);
  }
}

/** Reads at most `limit` bytes; undefined when the body is larger. */
export const readLimited = readBodyWithin;

export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code) return cause.code;
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  return err instanceof Error ? err.message : String(err);
}
