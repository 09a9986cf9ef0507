import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { RegistryHTTPError, ThvError, redactUrl } from '../core/errors.js';
import { readBodyLimited } from '../core/http.js';
import { MAX_ERROR_BODY_BYTES, parseBaseUrl } from './api-client.js';

export type RegistryKind = 'file' | 'url' | 'api';

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.168.0.0', 16],
] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::1', 128], ['::', 128], ['fc00::', 7], ['fe80::', 10]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  if (family === 6 && ip.toLowerCase().startsWith('::ffff:')) return isPrivateAddress(ip.slice(7));
  return PRIVATE.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Plain http and private or loopback addresses are refused unless the user allowed them: a
 * registry URL must not become a way to reach the local network (docs/registry.md#where-the-catalog-comes-from).
 */
export async function assertPublicRegistryUrl(raw: string, allowPrivateIp: boolean): Promise<void> {
  if (allowPrivateIp) return;
  const url = new URL(raw);
  if (url.protocol !== 'https:') {
    throw new ThvError('bad_request', `registry URL ${redactUrl(raw)} is not https`, {
      hint: 'Use https, or pass --allow-private-ip for a registry on a private network.',
    });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (host === 'localhost' || addresses.some(isPrivateAddress)) {
    throw new ThvError('bad_request', `registry URL ${redactUrl(raw)} points at a private or loopback address`, {
      hint: 'Pass --allow-private-ip if this is intended.',
    });
  }
}

/**
 * Decides what the user pointed at: a path is a file; a URL ending in `.json` is a document;
 * anything else is probed once with `GET /v0.1/servers?limit=1&version=latest`.
 */
export async function detectRegistryKind(input: string, fetchImpl: typeof fetch = fetch): Promise<RegistryKind> {
  if (!/^https?:\/\//i.test(input)) return 'file';
  if (new URL(input).pathname.toLowerCase().endsWith('.json')) return 'url';
  const base = parseBaseUrl(input);
  const probeUrl = `${base}/v0.1/servers?limit=1&version=latest`;
  let res: Response;
  try {
    res = await fetchImpl(probeUrl, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new ThvError('registry_unavailable', `cannot reach ${redactUrl(input)} to detect the registry type`, {
      cause: err,
      hint: 'Check the URL; a registry JSON document URL must end in .json.',
    });
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel().catch(() => undefined);
    return 'api';
  }
  if (res.ok) {
    const text = await readBodyLimited(res, 1024 * 1024).catch(() => '');
    try {
      const body = JSON.parse(text) as { servers?: unknown; metadata?: unknown };
      if (Array.isArray(body.servers) && body.metadata && typeof body.metadata === 'object') return 'api';
    } catch {
      // not JSON: fall through to the error below
    }
  } else {
    const body = await readBodyLimited(res, MAX_ERROR_BODY_BYTES, { truncate: true }).catch(() => '');
    throw new ThvError('bad_request', `${redactUrl(input)} is not an MCP Registry API`, {
      cause: new RegistryHTTPError(res.status, probeUrl, body),
      hint: 'A registry JSON document URL must end in .json.',
    });
  }
  throw new ThvError('bad_request', `${redactUrl(input)} is not an MCP Registry API (its /v0.1/servers reply has no servers and metadata)`, {
    hint: 'A registry JSON document URL must end in .json.',
  });
}
