import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { checkHost, checkJsonBody, isAllowedOrigin, isLoopbackHost, parseHostHeader, type BoundAddress } from './guards.js';

/**
 * The guard in front of a workload's MCP endpoint — the stdio bridge and the remote proxy, which
 * adds the user's credentials to what it forwards (docs/workloads.md#who-may-call-a-workload). A web
 * page must not be able to use it: the checks are the API's (src/transport/guards.ts), made strict
 * because no browser page of thv's own ever calls these listeners:
 *
 * - the request target must be origin-form (`/path?query`): absolute-form and `*` are refused;
 * - the Host must name this listener (DNS rebinding); on a wildcard bind, a loopback name, this
 *   machine's name or one of its addresses;
 * - `Origin`, when present, must be exactly this listener's own origin (`null` is refused);
 * - `Sec-Fetch-Site`, when present, must be `same-origin` or `none`, whatever the method;
 * - a body must be declared `application/json` (parsed as a media type).
 *
 * Returns the HTTP status and reason of the refusal, or undefined when the request may proceed.
 */
export function refuseMcpCaller(req: Pick<IncomingMessage, 'url' | 'method' | 'headers'>, bound: BoundAddress): { status: number; message: string } | undefined {
  const target = req.url ?? '';
  if (!target.startsWith('/') || target.startsWith('//')) return { status: 400, message: 'the request target must be a path (origin-form)' };
  const hostRefusal = isWildcard(bound.host) ? checkWildcardHost(req.headers.host, bound) : checkHost(req.headers, bound);
  if (hostRefusal) return { status: 403, message: hostRefusal };
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, bound)) {
    return { status: 403, message: `requests from the origin ${JSON.stringify(origin)} are not allowed; only this server's own origin is` };
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return { status: 403, message: `${site} requests are not allowed` };
  const notJson = checkJsonBody(req.method ?? 'GET', req.headers);
  if (notJson) return { status: 415, message: notJson };
  return undefined;
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** Whether binding `host` makes a listener reachable from other machines (worth a warning). */
export function isExposedHost(host: string): boolean {
  return !isLoopbackHost(host);
}

/** Names this machine answers to: loopback, its hostname and the addresses of its interfaces. */
function localNames(): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '::1', hostname().toLowerCase()]);
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) names.add(entry.address.toLowerCase());
  return names;
}

function checkWildcardHost(header: string | undefined, bound: BoundAddress): string | undefined {
  const parsed = header === undefined ? undefined : parseHostHeader(header);
  const ok = parsed !== undefined && (parsed.port === undefined || bound.port === undefined || parsed.port === bound.port) && localNames().has(parsed.hostname);
  return ok ? undefined : 'the Host header does not name this server; requests must use one of its addresses';
}

function originAllowed(origin: string, bound: BoundAddress): boolean {
  if (!isWildcard(bound.host)) return isAllowedOrigin(origin, bound);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || url.username || url.password) return false;
  const port = url.port ? Number(url.port) : 80;
  return checkWildcardHost(`${url.host.replace(/:\d+$/, '')}:${port}`, bound) === undefined;
}
