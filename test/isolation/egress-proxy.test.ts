import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { EgressProxy, bypassesProxy, isSpecialAddress, upstreamProxies, type Lookup, type UpstreamProxies } from '../../src/isolation/egress-proxy.js';
import { parseProfile, type PermissionProfile } from '../../src/isolation/profile.js';

/** Names under .localhost resolve to 127.0.0.1 without DNS; rebind.test answers differently each time. */
function testLookup(calls: string[]): Lookup {
  let rebinds = 0;
  return async (hostname) => {
    calls.push(hostname);
    if (hostname.endsWith('.localhost')) return [{ address: '127.0.0.1', family: 4 }];
    if (hostname === 'metadata.test') return [{ address: '169.254.169.254', family: 4 }];
    // First answer 127.0.0.1, later ones 127.0.0.2 (where nothing listens): only a proxy that asks twice fails.
    if (hostname === 'rebind.test') return [{ address: rebinds++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function target(): Promise<{ port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url} host=${req.headers.host}`);
    res.end('hello from target');
  });
  // Counts raw connections too, so "no connection was made" is observable for CONNECT.
  server.on('connection', () => hits.push('connection'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, hits };
}

async function proxyFor(profile: PermissionProfile, extra: { isThvEndpoint?: (a: string, p: number) => boolean; upstream?: UpstreamProxies } = {}) {
  const warnings: Array<Record<string, unknown>> = [];
  const lookups: string[] = [];
  const proxy = new EgressProxy({ profile, log: { warn: (obj) => warnings.push(obj as Record<string, unknown>) }, lookup: testLookup(lookups), ...extra });
  const url = await proxy.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => proxy.close());
  return { proxy, port: Number(new URL(url).port), warnings, lookups };
}

function viaProxy(proxyPort: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url, method: 'GET', headers: { host: new URL(url).host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connectVia(proxyPort: number, authority: string): Promise<{ status: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority });
    req.on('connect', (res, socket) => resolve({ status: res.statusCode!, socket }));
    req.on('error', reject);
    req.end();
  });
}

/** A GET sent through an established CONNECT tunnel; the whole answer, once the target closes. */
function getThroughTunnel(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (d) => (data += d.toString())).on('end', () => resolve(data));
    socket.write(`GET /tunnelled HTTP/1.1\r\nHost: ok.localhost\r\nConnection: close\r\n\r\n`);
  });
}

/**
 * The user's own proxy: a real HTTP forward + CONNECT proxy that records what it is asked and
 * carries it to 127.0.0.1 (the test names resolve nowhere else).
 */
async function userProxy(): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} auth=${req.headers['proxy-authorization'] ?? '-'}`);
    const url = new URL(req.url!);
    const up = http.request({ host: '127.0.0.1', port: Number(url.port), path: `${url.pathname}${url.search}`, method: req.method, headers: { host: url.host } }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
    seen.push(`CONNECT ${req.url} auth=${req.headers['proxy-authorization'] ?? '-'}`);
    const upstream = net.connect(Number(req.url!.split(':').pop()), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return { port: (server.address() as AddressInfo).port, seen };
}

const allow = (hosts: string[], ports: number[] = []) => parseProfile({ network: { outbound: { allow_host: hosts, allow_port: ports } } });

describe('egress proxy', () => {
  it('forwards an allowed host (named exactly, so its loopback address is allowed) and refuses others without connecting', async () => {
    const t = await target();
    const { port, warnings } = await proxyFor(allow(['api.localhost'], [t.port]));
    const ok = await viaProxy(port, `http://api.localhost:${t.port}/path?q=secret`);
    expect(ok).toMatchObject({ status: 200, body: 'hello from target' });
    expect(t.hits).toContain(`GET /path?q=secret host=api.localhost:${t.port}`);
    t.hits.length = 0;
    const refused = await viaProxy(port, `http://other.localhost:${t.port}/x?token=abc`);
    expect(refused.status).toBe(403);
    expect(t.hits).toEqual([]);
    // Host and port only: never the path or query.
    expect(warnings).toEqual([{ host: 'other.localhost', port: t.port, reason: 'host not in allow_host' }]);
    expect(JSON.stringify(warnings)).not.toContain('token');
  });

  it('chains the user\'s proxy (HTTPS_PROXY/HTTP_PROXY) for allowed destinations only, with its credentials, and honours NO_PROXY', async () => {
    const t = await target();
    const user = await userProxy();
    const upstream = upstreamProxies({ https: `http://me:p%40ss@127.0.0.1:${user.port}`, http: `http://127.0.0.1:${user.port}`, noProxy: 'direct.localhost, .internal.localhost' })!;
    const { port, warnings } = await proxyFor(allow(['ok.localhost', 'direct.localhost', 'a.internal.localhost'], [t.port]), { upstream });
    // CONNECT: the same tunnel, one hop further, with the proxy's Basic credentials.
    const ok = await connectVia(port, `ok.localhost:${t.port}`);
    expect(ok.status).toBe(200);
    const answer = await getThroughTunnel(ok.socket);
    expect(answer).toContain('hello from target');
    expect(user.seen).toEqual([`CONNECT ok.localhost:${t.port} auth=Basic ${Buffer.from('me:p@ss').toString('base64')}`]);
    // Plain http: the absolute URL to HTTP_PROXY.
    expect(await viaProxy(port, `http://ok.localhost:${t.port}/plain`)).toMatchObject({ status: 200, body: 'hello from target' });
    expect(user.seen.at(-1)).toBe(`GET http://ok.localhost:${t.port}/plain auth=-`);
    // The allow-list is checked first: a refused host never reaches the user's proxy.
    user.seen.length = 0;
    t.hits.length = 0;
    const refused = await connectVia(port, `evil.localhost:${t.port}`);
    refused.socket.destroy();
    expect(refused.status).toBe(403);
    expect((await viaProxy(port, `http://evil.localhost:${t.port}/`)).status).toBe(403);
    expect(user.seen).toEqual([]);
    expect(t.hits).toEqual([]);
    expect(warnings.map((w) => w.host)).toEqual(['evil.localhost', 'evil.localhost']);
    // NO_PROXY: straight to the destination.
    expect(await viaProxy(port, `http://direct.localhost:${t.port}/`)).toMatchObject({ status: 200 });
    expect(await viaProxy(port, `http://a.internal.localhost:${t.port}/`)).toMatchObject({ status: 200 });
    expect(user.seen).toEqual([]);
    expect(t.hits).toContain(`GET / host=direct.localhost:${t.port}`);
  });

  it('parses proxy settings as curl does', () => {
    expect(upstreamProxies({})).toBeUndefined();
    expect(upstreamProxies({ https: 'socks5://127.0.0.1:1080' })).toBeUndefined();
    const only = upstreamProxies({ http: 'proxy.example:3128' })!;
    expect(only.https?.href).toBe('http://proxy.example:3128/');
    expect(bypassesProxy(['*'], 'x.example', 443)).toBe(true);
    expect(bypassesProxy(['example.com'], 'api.example.com', 443)).toBe(true);
    expect(bypassesProxy(['.example.com'], 'example.com', 443)).toBe(true);
    expect(bypassesProxy(['example.com:8443'], 'example.com', 443)).toBe(false);
    expect(bypassesProxy(['example.com'], 'notexample.com', 443)).toBe(false);
  });

  it('enforces the port as well as the host', async () => {
    const t = await target();
    const { port } = await proxyFor(allow(['api.localhost'], [t.port + 1 > 65535 ? 1 : t.port + 1]));
    expect((await viaProxy(port, `http://api.localhost:${t.port}/`)).status).toBe(403);
    expect(t.hits).toEqual([]);
  });

  it('tunnels CONNECT to an allowed host and refuses a disallowed one before any connection', async () => {
    const t = await target();
    const { port, warnings } = await proxyFor(allow(['api.localhost', 'ok.localhost'], [t.port]));
    const ok = await connectVia(port, `ok.localhost:${t.port}`);
    expect(ok.status).toBe(200);
    const answer = await getThroughTunnel(ok.socket);
    expect(answer).toContain('hello from target');
    t.hits.length = 0;
    const refused = await connectVia(port, `evil.localhost:${t.port}`);
    refused.socket.destroy();
    expect(refused.status).toBe(403);
    expect(t.hits).toEqual([]);
    expect(warnings.at(-1)).toMatchObject({ host: 'evil.localhost', port: t.port });
  });

  it('refuses private and loopback addresses reached through a domain match, and metadata addresses', async () => {
    const t = await target();
    const { port, warnings } = await proxyFor(allow(['.localhost', '.test'], []));
    // `.localhost` matches, but not exactly: 127.0.0.1 must be named.
    expect((await viaProxy(port, `http://api.localhost:${t.port}/`)).status).toBe(403);
    expect((await viaProxy(port, `http://metadata.test/`)).status).toBe(403);
    expect((await viaProxy(port, `http://169.254.169.254/latest/meta-data/`)).status).toBe(403);
    expect(t.hits).toEqual([]);
    expect(warnings.map((w) => w.reason)).toEqual([
      expect.stringContaining('loopback, private or link-local'),
      'cloud metadata address',
      'host not in allow_host',
    ]);
  });

  it('insecure_allow_all allows loopback but never thv\'s own endpoints', async () => {
    const t = await target();
    const thv = await target();
    const { port, warnings } = await proxyFor(parseProfile({ network: { outbound: { insecure_allow_all: true } } }), {
      isThvEndpoint: (address, p) => isSpecialAddress(address) && p === thv.port,
    });
    expect((await viaProxy(port, `http://any.localhost:${t.port}/`)).status).toBe(200);
    expect((await viaProxy(port, `http://127.0.0.1:${thv.port}/api`)).status).toBe(403);
    const c = await connectVia(port, `api.localhost:${thv.port}`);
    c.socket.destroy();
    expect(c.status).toBe(403);
    expect(thv.hits).toEqual([]);
    expect(warnings).toHaveLength(2);
  });

  it('connects to the address it checked: one lookup per request, so a rebinding answer is never used', async () => {
    const t = await target();
    const { port, lookups } = await proxyFor(allow(['rebind.test'], [t.port]));
    expect(await viaProxy(port, `http://rebind.test:${t.port}/`)).toMatchObject({ status: 200 });
    expect(lookups).toEqual(['rebind.test']);
    const c = await connectVia(port, `rebind.test:${t.port}`);
    c.socket.destroy();
    // The second request gets the second answer (127.0.0.2, where nothing listens): checked and used alike.
    expect(c.status).toBe(502);
    expect(lookups).toEqual(['rebind.test', 'rebind.test']);
  });

  it('a profile without network refuses everything', async () => {
    const t = await target();
    const { port } = await proxyFor(parseProfile({}));
    expect((await viaProxy(port, `http://127.0.0.1:${t.port}/`)).status).toBe(403);
    expect(t.hits).toEqual([]);
  });

  it('classifies special addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '224.0.0.1']) {
      expect(isSpecialAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700::1111']) expect(isSpecialAddress(a), a).toBe(false);
  });
});
