import type { IncomingHttpHeaders } from 'node:http';

/**
 * The checks every local HTTP listener of thv makes before it looks at a request: the REST API, a
 * workload's MCP proxy, and the bridges that come later (docs/api.md#safety).
 *
 * - DNS rebinding: a page on evil.example whose name resolves to 127.0.0.1 still sends
 *   `Host: evil.example`, so only the names the server was bound as are accepted (`checkHost`).
 * - Cross-site requests: any web page can make a browser send a "simple" request (a form POST, or
 *   fetch without preflight) to 127.0.0.1, where the Host check alone lets it through. Browsers mark
 *   such requests with a foreign `Origin` and `Sec-Fetch-Site: cross-site` (`checkCrossSite`), and
 *   can only send a body as text/plain, form-urlencoded or multipart (`checkJsonBody`). curl and the
 *   desktop app send none of these.
 *
 * Each check returns the reason for refusing, or undefined when the request may proceed; the caller
 * answers in its own protocol (an API error, a JSON-RPC error).
 */

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD']);

export interface BoundAddress {
  host: string;
  /** The listening port once known; a Host header naming another port is refused. */
  port?: number;
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(stripBrackets(host).toLowerCase());
}

/** Refuses a request whose Host header does not name this server. */
export function checkHost(headers: IncomingHttpHeaders, bound: BoundAddress): string | undefined {
  if (isAllowedHost(headers.host, bound)) return undefined;
  return 'the Host header does not name this server; requests must use the address it is bound to';
}

/**
 * Refuses what a browser sends on behalf of another site.
 * - `same-origin` (the REST API): the Origin, when present, must be exactly this server's own
 *   (`http:`, a loopback or the bound name, the bound port), and a state-changing request must not
 *   be marked `Sec-Fetch-Site: cross-site`.
 * - `local-origin` (an MCP proxy): the Origin, when present and not `null`, must name this machine
 *   on any port and scheme, since browser MCP clients (an inspector) are served from another local
 *   port; such a request is cross-site to the browser, so Sec-Fetch-Site is not consulted.
 */
export function checkCrossSite(
  method: string,
  headers: IncomingHttpHeaders,
  bound: BoundAddress,
  policy: 'same-origin' | 'local-origin' = 'same-origin',
): string | undefined {
  const origin = headers.origin;
  if (policy === 'local-origin') {
    if (!origin || origin === 'null') return undefined;
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return 'malformed Origin header';
    }
    return isAllowedHost(originHost, { host: bound.host }) ? undefined : `requests from ${origin} are not allowed`;
  }
  if (origin !== undefined && !isAllowedOrigin(origin, bound)) {
    return `requests from the origin ${JSON.stringify(origin)} are not allowed; only this server's own loopback origin is`;
  }
  if (SAFE_METHODS.has(method.toUpperCase())) return undefined;
  if (headers['sec-fetch-site'] === 'cross-site') return 'cross-site requests are not allowed';
  return undefined;
}

/** Refuses a state-changing request whose body is not declared as JSON (a browser form's can't be). */
export function checkJsonBody(method: string, headers: IncomingHttpHeaders): string | undefined {
  if (SAFE_METHODS.has(method.toUpperCase()) || !hasBody(headers)) return undefined;
  if (mediaType(headers['content-type']) === 'application/json') return undefined;
  return 'a request body must be JSON, sent with Content-Type: application/json';
}

/** Splits `name`, `name:port`, `[v6]` or `[v6]:port`; undefined when the header is malformed. */
export function parseHostHeader(header: string): { hostname: string; port?: number } | undefined {
  const value = header.trim().toLowerCase();
  if (!value) return undefined;
  let hostname: string;
  let rest: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    hostname = value.slice(1, end);
    rest = value.slice(end + 1);
  } else {
    const colon = value.indexOf(':');
    if (colon >= 0 && value.indexOf(':', colon + 1) >= 0) return undefined; // bare IPv6 is not a valid Host
    hostname = colon >= 0 ? value.slice(0, colon) : value;
    rest = colon >= 0 ? value.slice(colon) : '';
  }
  if (!hostname) return undefined;
  if (rest === '') return { hostname };
  if (!/^:\d{1,5}$/.test(rest)) return undefined;
  return { hostname, port: Number(rest.slice(1)) };
}

/**
 * Bound to loopback: any loopback spelling is fine (clients use `localhost` and `127.0.0.1`
 * interchangeably). Bound elsewhere: that name, plus loopback names, since a local client still
 * reaches the server through them.
 */
export function isAllowedHost(header: string | undefined, bound: BoundAddress): boolean {
  if (header === undefined) return false;
  const parsed = parseHostHeader(header);
  if (!parsed) return false;
  if (parsed.port !== undefined && bound.port !== undefined && parsed.port !== bound.port) return false;
  if (LOOPBACK_NAMES.has(parsed.hostname)) return true;
  return !isLoopbackHost(bound.host) && parsed.hostname === stripBrackets(bound.host).toLowerCase();
}

/**
 * An `Origin` is this server's own when it is plain http with a loopback name (or the bound name,
 * as for Host) and exactly the bound port: `http://localhost:3000` is another site that happens to
 * run on this machine. `null` (sandboxed frames, file: pages) and anything unparsable are foreign.
 */
export function isAllowedOrigin(origin: string, bound: BoundAddress): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || url.username || url.password) return false;
  // URL drops the scheme's default port, and a missing port must not pass as "any port".
  const port = url.port ? Number(url.port) : 80;
  if (bound.port !== undefined && port !== bound.port) return false;
  return isAllowedHost(`${url.hostname}:${port}`, bound);
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length.trim() !== '0';
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
