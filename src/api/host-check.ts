/**
 * DNS-rebinding defence (SPEC §7): a page on evil.example that resolves its name to 127.0.0.1 still
 * sends `Host: evil.example`, so only the names this server was bound as are accepted.
 */
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(stripBrackets(host).toLowerCase());
}

export interface BoundAddress {
  host: string;
  /** The listening port once known; a Host header naming another port is refused. */
  port?: number;
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

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
