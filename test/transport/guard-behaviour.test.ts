import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { startTestApi, type TestApi } from '../api/helpers.js';
import { startInProcess, type InProcessWorkload } from '../workloads/in-process.js';
import { listen } from '../../src/transport/listen.js';
import { refuseMcpCaller } from '../../src/transport/mcp-guard.js';

// One behaviour suite for every local listener of thv — the REST API, a stdio bridge and a remote
// proxy (docs/workloads.md#who-may-call-a-workload): what a web page can make a browser send is
// refused, and for the proxy nothing of it reaches the remote (which would receive the user's token).

interface Target {
  name: string;
  port: () => number;
  /** A path that the listener serves (a POST with a JSON body). */
  path: string;
  /** Requests that reached the remote, where there is one. */
  forwarded?: () => number;
}

/** A raw HTTP/1.1 exchange, so Host, the request target and every header are exactly as given. */
function raw(port: number, lines: string[], body = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.write(`${lines.join('\r\n')}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}

const JSON_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });

function behaviours(target: Target): void {
  const own = () => `127.0.0.1:${target.port()}`;
  const post = (extra: string[], path = target.path, host = own(), body = JSON_BODY) =>
    raw(target.port(), [`POST ${path} HTTP/1.1`, `host: ${host}`, 'accept: application/json, text/event-stream', ...extra], body);

  it('serves its own origin and callers without one', async () => {
    expect(await post(['content-type: application/json'])).not.toBe(403);
    expect(await post(['content-type: application/json', `origin: http://${own()}`])).not.toBe(403);
    expect(await post(['content-type: application/json', 'sec-fetch-site: same-origin'])).not.toBe(403);
  });

  it('refuses Origin: null, another local port and a foreign site', async () => {
    for (const origin of ['null', `http://localhost:${target.port() + 1}`, `http://127.0.0.1:${target.port() === 80 ? 81 : 80}`, 'https://evil.example']) {
      expect(await post(['content-type: application/json', `origin: ${origin}`]), origin).toBe(403);
    }
  });

  it('refuses a request a browser marks cross-site', async () => {
    expect(await post(['content-type: application/json', 'sec-fetch-site: cross-site'])).toBe(403);
  });

  it('refuses a body that is not declared JSON as a media type', async () => {
    for (const type of ['text/plain', 'text/plain;application/json', 'application/x-www-form-urlencoded']) {
      expect(await post([`content-type: ${type}`]), type).toBe(415);
    }
  });

  it('answers a DNS-rebinding Host with 403', async () => {
    expect(await post(['content-type: application/json'], target.path, `evil.example:${target.port()}`)).toBe(403);
  });

  it('refuses absolute-form and asterisk request targets', async () => {
    expect(await post(['content-type: application/json'], `http://evil.example${target.path}`)).toBeGreaterThanOrEqual(400);
    expect(await raw(target.port(), ['OPTIONS * HTTP/1.1', `host: ${own()}`])).toBeGreaterThanOrEqual(400);
  });
}

describe('the REST API', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());
  behaviours({ name: 'api', port: () => api.server.port, path: '/api/v1beta/registry/default/refresh' });
});

describe('a stdio bridge', () => {
  let workload: InProcessWorkload;
  beforeAll(async () => {
    workload = await startInProcess({ name: 'guard-bridge' });
  });
  afterAll(() => workload.close());
  behaviours({ name: 'bridge', port: () => workload.supervisor.port, path: '/mcp' });

  it('refuses a cross-site GET too (the event stream)', async () => {
    expect(await raw(workload.supervisor.port, ['GET /sse HTTP/1.1', `host: 127.0.0.1:${workload.supervisor.port}`, 'accept: text/event-stream', 'sec-fetch-site: cross-site'])).toBe(403);
  });
});

describe('a remote proxy', () => {
  let upstream: http.Server;
  let workload: InProcessWorkload;
  let forwarded = 0;
  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      forwarded++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
    const port = await listen(upstream, '127.0.0.1', 0);
    workload = await startInProcess({ name: 'guard-proxy', remote_url: `http://127.0.0.1:${port}/mcp`, transport: 'streamable-http', headers: { authorization: 'Bearer user-token' } });
  });
  afterAll(async () => {
    await workload.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });
  const target = { name: 'proxy', port: () => workload.supervisor.port, path: '/mcp', forwarded: () => forwarded };
  behaviours(target);

  it('forwards nothing it refused, and a cross-site GET to any path is refused', async () => {
    const before = forwarded;
    const port = workload.supervisor.port;
    expect(await raw(port, ['GET /anything HTTP/1.1', `host: 127.0.0.1:${port}`, 'sec-fetch-site: cross-site'])).toBe(403);
    expect(await raw(port, ['POST /mcp HTTP/1.1', `host: 127.0.0.1:${port}`, 'origin: null', 'content-type: application/json'], JSON_BODY)).toBe(403);
    expect(await raw(port, ['POST http://evil.example/mcp HTTP/1.1', `host: 127.0.0.1:${port}`, 'content-type: application/json'], JSON_BODY)).toBe(400);
    expect(forwarded).toBe(before);
    expect(await raw(port, ['POST /mcp HTTP/1.1', `host: 127.0.0.1:${port}`, 'content-type: application/json'], JSON_BODY)).toBe(200);
    expect(forwarded).toBe(before + 1);
  });
});

describe('a listener bound to every interface', () => {
  it('keeps the Host and Origin checks (loopback and own addresses only)', () => {
    const bound = { host: '0.0.0.0', port: 4000 };
    const req = (headers: Record<string, string>) => refuseMcpCaller({ url: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '2', ...headers } }, bound);
    expect(req({ host: 'evil.example:4000' })?.status).toBe(403);
    expect(req({ host: '127.0.0.1:4000', origin: 'http://evil.example:4000' })?.status).toBe(403);
    expect(req({ host: '127.0.0.1:4000', origin: 'null' })?.status).toBe(403);
    expect(req({ host: '127.0.0.1:4000' })).toBeUndefined();
    expect(req({ host: 'localhost:4000', origin: 'http://localhost:4000' })).toBeUndefined();
  });
});
