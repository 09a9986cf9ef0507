import http from 'node:http';
import net from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import { unlink } from 'node:fs/promises';
import { outboundDecision, type PermissionProfile } from './profile.js';

/** Where a name resolves to; the injected form lets tests resolve names without real DNS. */
export type Lookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export interface EgressLogger {
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface EgressProxyOptions {
  profile: PermissionProfile;
  log: EgressLogger;
  lookup?: Lookup;
  /**
   * thv's own endpoints (the API, every workload's port): refused whatever the profile says, so a
   * server can never drive thv itself. Called with the resolved address.
   */
  isThvEndpoint?: (address: string, port: number) => boolean;
  /** Idle timeout for tunnels and upstream requests (default 10 minutes). */
  idleTimeoutMs?: number;
  /** The user's own HTTP proxy, chained for allowed destinations (docs/isolation.md, "Your own proxy"). */
  upstream?: UpstreamProxies;
}

/** HTTP_PROXY / HTTPS_PROXY / NO_PROXY of thv's environment, parsed (src/core/env.ts reads them). */
export interface UpstreamProxies {
  /** For plain http:// requests. */
  http?: URL;
  /** For CONNECT tunnels (https and anything else); HTTP_PROXY when only that one is set. */
  https?: URL;
  /** NO_PROXY entries: `*`, a host, `.domain` or `domain` (itself and subdomains), optionally `:port`. */
  noProxy: string[];
}

/** The upstream proxies from the three values, or undefined when none is usable (only http:// proxies are). */
export function upstreamProxies(values: { http?: string | undefined; https?: string | undefined; noProxy?: string | undefined }): UpstreamProxies | undefined {
  const parse = (text: string | undefined): URL | undefined => {
    if (!text) return undefined;
    try {
      const url = new URL(text.includes('://') ? text : `http://${text}`);
      return url.protocol === 'http:' ? url : undefined;
    } catch {
      return undefined;
    }
  };
  const http = parse(values.http);
  const https = parse(values.https) ?? http;
  if (!http && !https) return undefined;
  const noProxy = (values.noProxy ?? '').split(/[,\s]+/).map((e) => e.trim().toLowerCase()).filter(Boolean);
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), noProxy };
}

/** Whether NO_PROXY exempts host:port (curl's rules: `*`, exact host, or domain suffix with or without a leading dot). */
export function bypassesProxy(noProxy: string[], host: string, port: number): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  for (const entry of noProxy) {
    if (entry === '*') return true;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) continue;
    if (m[2] && Number(m[2]) !== port) continue;
    const pattern = m[1]!.replace(/^\[(.*)\]$/, '$1').replace(/^\*?\./, '');
    if (name === pattern || name.endsWith(`.${pattern}`)) return true;
  }
  return false;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * The addresses a server may reach only when its profile names the host exactly: loopback, private,
 * carrier-grade NAT, link-local (which holds the cloud metadata services 169.254.169.254 and
 * fd00:ec2::254), unique-local, multicast and reserved ranges (docs/isolation.md).
 */
const SPECIAL = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64]] as const) SPECIAL.addSubnet(prefix, bits, 'ipv6');
/** Metadata services: refused even under insecure_allow_all unless named exactly. */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '169.254.170.2']);

/** IPv4-mapped/-compatible and NAT64 IPv6 addresses are judged by the IPv4 address they carry. */
export function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

export function isSpecialAddress(address: string): boolean {
  const v4 = net.isIPv4(address) ? address : embeddedIpv4(address);
  if (v4) return SPECIAL.check(v4, 'ipv4');
  return net.isIPv6(address) ? SPECIAL.check(address, 'ipv6') : true;
}

export function isMetadataAddress(address: string): boolean {
  return METADATA.has(embeddedIpv4(address) ?? address.toLowerCase());
}

interface Target {
  host: string;
  port: number;
}

type Verdict = { ok: true; address: string; family: number } | { ok: true; address: undefined; family: undefined } | { ok: false; status: number; reason: string };

/**
 * The egress proxy of one workload (docs/isolation.md): an HTTP forward proxy with CONNECT. It decides
 * on the requested host and port (allow_host × allow_port), resolves the name once, checks every
 * resolved address, and connects to the address it checked — so a second, different DNS answer
 * (rebinding) can never be used. Refusals are logged with host and port only: never paths, queries
 * or headers, which may carry credentials.
 */
export class EgressProxy {
  readonly server: http.Server;
  private readonly lookup: Lookup;
  private readonly sockets = new Set<net.Socket>();
  private socketPath: string | undefined;

  constructor(private readonly options: EgressProxyOptions) {
    this.lookup = options.lookup ?? ((hostname) => dnsLookup(hostname, { all: true, verbatim: true }));
    this.server = http.createServer((req, res) => void this.forward(req, res));
    this.server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void this.tunnel(req, socket, head));
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on a unix socket path (the sandbox) or a TCP address (tests, containers). */
  async listen(where: { path: string } | { host: string; port: number }): Promise<string> {
    if ('path' in where) {
      await unlink(where.path).catch(() => undefined);
      this.socketPath = where.path;
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        resolve();
      };
      if ('path' in where) this.server.listen(where.path, done);
      else this.server.listen(where.port, where.host, done);
    });
    const address = this.server.address();
    return typeof address === 'string' ? address : `http://${address!.address}:${address!.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.socketPath) await unlink(this.socketPath).catch(() => undefined);
  }

  /**
   * The policy: may this server reach `host:port`, and at which address. `viaUpstream`: the user's
   * proxy will carry the connection, so a name only that proxy can resolve is passed on to it
   * (undefined address); a name that resolves here is checked like any other.
   */
  async check(target: Target, viaUpstream = false): Promise<Verdict> {
    const decision = outboundDecision(this.options.profile, target.host, target.port);
    if (!decision.allowed) return { ok: false, status: 403, reason: decision.reason ?? 'not allowed by the permission profile' };
    const bare = target.host.replace(/^\[(.*)\]$/, '$1');
    let addresses: Array<{ address: string; family: number }>;
    if (net.isIP(bare)) addresses = [{ address: bare, family: net.isIPv6(bare) ? 6 : 4 }];
    else {
      try {
        addresses = await this.lookup(bare);
      } catch {
        if (viaUpstream) return { ok: true, address: undefined, family: undefined };
        return { ok: false, status: 502, reason: 'the host name does not resolve' };
      }
    }
    if (addresses.length === 0) return viaUpstream ? { ok: true, address: undefined, family: undefined } : { ok: false, status: 502, reason: 'the host name does not resolve' };
    // Every answer must pass: with one private address among public ones, the client (or a
    // rebinding resolver) could otherwise steer the connection to it.
    for (const { address } of addresses) {
      if (this.options.isThvEndpoint?.(address, target.port)) return { ok: false, status: 403, reason: 'thv\'s own endpoints are never reachable from a workload' };
      if (decision.named) continue;
      if (isMetadataAddress(address)) return { ok: false, status: 403, reason: 'cloud metadata address' };
      const allowAll = this.options.profile.network?.outbound?.insecure_allow_all === true;
      if (!allowAll && isSpecialAddress(address)) return { ok: false, status: 403, reason: 'resolves to a loopback, private or link-local address not named in allow_host' };
    }
    return { ok: true, address: addresses[0]!.address, family: addresses[0]!.family };
  }

  /** The user's proxy for this destination, unless NO_PROXY exempts it. */
  private upstreamFor(target: Target, kind: 'connect' | 'http'): URL | undefined {
    const upstream = this.options.upstream;
    if (!upstream) return undefined;
    const proxy = kind === 'http' ? upstream.http : upstream.https;
    return proxy && !bypassesProxy(upstream.noProxy, target.host, target.port) ? proxy : undefined;
  }

  private refuse(target: Target, reason: string): void {
    this.options.log.warn({ host: target.host, port: target.port, reason }, 'egress proxy refused a connection');
  }

  private async tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => undefined);
    const target = parseAuthority(req.url ?? '', 443);
    if (!target) {
      client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const viaProxy = this.upstreamFor(target, 'connect');
    const verdict = await this.check(target, viaProxy !== undefined);
    if (!verdict.ok) {
      this.refuse(target, verdict.reason);
      const body = `thv egress proxy: ${target.host}:${target.port} refused: ${verdict.reason}\n`;
      client.end(`HTTP/1.1 ${verdict.status} ${verdict.status === 403 ? 'Forbidden' : 'Bad Gateway'}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    const upstream = viaProxy
      ? net.connect({ host: viaProxy.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(viaProxy.port || 80) })
      : net.connect({ host: verdict.address!, port: target.port, family: verdict.family! });
    this.sockets.add(upstream);
    upstream.once('close', () => this.sockets.delete(upstream));
    upstream.setTimeout(this.options.idleTimeoutMs ?? 600_000, () => upstream.destroy());
    let connected = false;
    const established = (rest: Buffer) => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (rest.length) client.write(rest);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    };
    upstream.once('connect', () => {
      if (!viaProxy) return established(Buffer.alloc(0));
      // The same CONNECT, one hop further: the user's proxy answers with a status line first.
      const authority = `${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
      upstream.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${proxyAuthorization(viaProxy)}\r\n`);
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffered.length > 16_384) upstream.destroy(new Error('upstream proxy answer too long'));
          return;
        }
        upstream.off('data', onData);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (status >= 200 && status < 300) return established(buffered.subarray(end + 4));
        this.options.log.warn({ host: target.host, port: target.port, status }, 'the upstream proxy refused a connection');
        client.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        upstream.destroy();
      };
      upstream.on('data', onData);
    });
    upstream.once('error', () => {
      if (!connected) client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('thv egress proxy: expected an absolute http:// URL\n');
      return;
    }
    if (url.protocol !== 'http:') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('thv egress proxy: only http:// URLs are forwarded; use CONNECT for https\n');
      return;
    }
    const target = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : 80 };
    const viaProxy = this.upstreamFor(target, 'http');
    const verdict = await this.check(target, viaProxy !== undefined);
    if (!verdict.ok) {
      this.refuse(target, verdict.reason);
      res.writeHead(verdict.status, { 'content-type': 'text/plain', connection: 'close' }).end(`thv egress proxy: ${target.host}:${target.port} refused: ${verdict.reason}\n`);
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    headers.host = url.host;
    const auth = viaProxy ? proxyAuthorization(viaProxy) : '';
    if (auth) headers['proxy-authorization'] = auth.slice('Proxy-Authorization: '.length, -2);
    const upstream = http.request({
      // Through the user's proxy the request line carries the absolute URL, as the client sent it.
      ...(viaProxy
        ? { host: viaProxy.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(viaProxy.port || 80), path: url.href }
        : { host: verdict.address!, family: verdict.family!, port: target.port, path: `${url.pathname}${url.search}` }),
      method: req.method,
      headers,
      setHost: false,
      timeout: this.options.idleTimeoutMs ?? 600_000,
    });
    upstream.once('response', (up) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
    });
    upstream.once('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.once('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`thv egress proxy: ${target.host}:${target.port} is unreachable\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  }
}

/** `Proxy-Authorization: Basic …\r\n` for a proxy URL with user:password, else ''. Never logged. */
function proxyAuthorization(proxy: URL): string {
  if (!proxy.username && !proxy.password) return '';
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}\r\n`;
}

function parseAuthority(authority: string, defaultPort: number): Target | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/\s]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return undefined;
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1').toLowerCase(), port };
}
