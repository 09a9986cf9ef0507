import { ThvError, redactUrl } from '../../core/errors.js';
import { discoverIssuer, readLimited, networkReason, type IssuerMetadata } from '../oidc-discovery.js';

const PROBE_TIMEOUT_MS = 15_000;
const MAX_DOCUMENT_BYTES = 256 * 1024;

/** What a remote MCP server says about its own authorization (MCP authorization spec, RFC 9728). */
export interface RemoteAuthDiscovery {
  issuer: string;
  metadata: IssuerMetadata;
  /** RFC 8707 resource indicator for the tokens. */
  resource: string;
  /** Scopes the server asked for in its challenge or metadata; empty when it said nothing. */
  scopes: string[];
}

export interface DiscoverRemoteOptions {
  /** `--remote-auth-issuer`: skips protected-resource discovery. */
  issuer?: string;
  /** `--remote-auth-resource`. */
  resource?: string;
  fetch?: typeof fetch;
}

/**
 * With an explicit issuer there is no resource metadata to name scopes: ask for an OIDC login that
 * can be refreshed (`openid offline_access`), as far as the issuer says it supports them.
 */
function defaultIssuerScopes(metadata: IssuerMetadata): string[] {
  const supported = Array.isArray(metadata.scopes_supported) ? metadata.scopes_supported : undefined;
  return ['openid', 'offline_access'].filter((scope) => !supported || supported.includes(scope));
}

/**
 * Finds the authorization server of a remote MCP server: an unauthenticated request's 401 names
 * the RFC 9728 metadata (`resource_metadata`), else the well-known locations are tried; the issuer
 * it lists is then read with RFC 8414 / OIDC discovery (which checks the `issuer` matches).
 */
export async function discoverRemoteAuth(serverUrl: string, options: DiscoverRemoteOptions = {}): Promise<RemoteAuthDiscovery> {
  const doFetch = options.fetch ?? fetch;
  const canonical = canonicalResource(serverUrl);
  if (options.issuer) {
    const metadata = await discoverIssuer(options.issuer, { fetch: doFetch });
    return { issuer: options.issuer, metadata, resource: options.resource ?? canonical, scopes: defaultIssuerScopes(metadata) };
  }
  const challenge = await probe(serverUrl, doFetch);
  const candidates = challenge.resourceMetadata ? [challenge.resourceMetadata] : wellKnownMetadataUrls(serverUrl);
  let prm: ProtectedResourceMetadata | undefined;
  for (const url of candidates) {
    prm = await fetchProtectedResourceMetadata(url, doFetch);
    if (prm) break;
  }
  if (!prm) {
    throw new ThvError('auth_failed', `${redactUrl(serverUrl)} does not say which authorization server protects it`, {
      hint: 'Pass the issuer with --remote-auth-issuer, or a token with --remote-auth-bearer-token.',
    });
  }
  if (prm.resource && !sameResource(prm.resource, canonical)) {
    // RFC 9728 §3.3: metadata for another resource must not be used (it could redirect our login).
    throw new ThvError('auth_failed', `the protected-resource metadata of ${redactUrl(serverUrl)} describes another resource (${redactUrl(prm.resource)})`, {
      hint: 'Check the server URL, or pass --remote-auth-issuer and --remote-auth-resource explicitly.',
    });
  }
  const issuer = prm.authorization_servers?.[0];
  if (!issuer) {
    throw new ThvError('auth_failed', `the protected-resource metadata of ${redactUrl(serverUrl)} lists no authorization server`, {
      hint: 'Pass the issuer with --remote-auth-issuer.',
    });
  }
  return {
    issuer,
    metadata: await discoverIssuer(issuer, { fetch: doFetch }),
    resource: options.resource ?? prm.resource ?? canonical,
    scopes: challenge.scopes ?? prm.scopes_supported ?? [],
  };
}

export interface Challenge {
  resourceMetadata?: string;
  scopes?: string[];
  /** RFC 6750 §3.1 `error`, e.g. `insufficient_scope`. */
  error?: string;
}

/** An unauthenticated MCP `initialize`; a protected server answers 401 with a Bearer challenge. */
async function probe(serverUrl: string, doFetch: typeof fetch): Promise<Challenge> {
  let res: Response;
  try {
    res = await doFetch(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'thv', version: '0' } },
      }),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ThvError('workload_failed', `cannot reach the remote server ${redactUrl(serverUrl)}: ${networkReason(err)}`, {
      cause: err,
      hint: 'Check the URL and your network connection.',
    });
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status !== 401) return {};
  return parseBearerChallenge(res.headers.get('www-authenticate') ?? '');
}

/** Reads `resource_metadata`, `scope` and `error` from a `WWW-Authenticate: Bearer …` header (RFC 6750 §3). */
export function parseBearerChallenge(header: string): Challenge {
  const bearer = /(?:^|,)\s*Bearer\b(.*)$/i.exec(header)?.[1] ?? '';
  const params: Record<string, string> = {};
  for (const m of bearer.matchAll(/([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return {
    ...(params.resource_metadata ? { resourceMetadata: params.resource_metadata } : {}),
    ...(params.scope ? { scopes: params.scope.split(/\s+/).filter(Boolean) } : {}),
    ...(params.error ? { error: params.error } : {}),
  };
}

/** RFC 9728 §3.1: the well-known segment goes between the host and the path; then the root. */
export function wellKnownMetadataUrls(serverUrl: string): string[] {
  const url = new URL(serverUrl);
  const path = url.pathname.replace(/\/+$/, '');
  const urls = [`${url.origin}/.well-known/oauth-protected-resource${path}`];
  if (path) urls.push(`${url.origin}/.well-known/oauth-protected-resource`);
  return urls;
}

interface ProtectedResourceMetadata {
  resource?: string;
  authorization_servers?: string[];
  scopes_supported?: string[];
}

async function fetchProtectedResourceMetadata(url: string, doFetch: typeof fetch): Promise<ProtectedResourceMetadata | undefined> {
  let res: Response;
  try {
    res = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  } catch {
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const text = await readLimited(res, MAX_DOCUMENT_BYTES);
  try {
    const doc = JSON.parse(text ?? '') as ProtectedResourceMetadata;
    if (typeof doc !== 'object' || doc === null) return undefined;
    const servers = Array.isArray(doc.authorization_servers) ? doc.authorization_servers.filter((s): s is string => typeof s === 'string') : undefined;
    const scopes = Array.isArray(doc.scopes_supported) ? doc.scopes_supported.filter((s): s is string => typeof s === 'string') : undefined;
    return {
      ...(typeof doc.resource === 'string' ? { resource: doc.resource } : {}),
      ...(servers ? { authorization_servers: servers } : {}),
      ...(scopes ? { scopes_supported: scopes } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The MCP server's canonical URI (MCP authorization spec): no fragment, no query, no trailing slash. */
export function canonicalResource(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.hash = '';
  url.search = '';
  return url.href.replace(/\/+$/, '');
}

function sameResource(a: string, b: string): boolean {
  try {
    return canonicalResource(a) === canonicalResource(b) || b.startsWith(`${canonicalResource(a)}/`);
  } catch {
    return false;
  }
}
