import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { HttpProxy } from '../../src/transport/http-proxy.js';
import { AuthRetryingError, type UpstreamCredentials } from '../../src/transport/upstream-credentials.js';
import { listen } from '../../src/transport/listen.js';
import { createLogger } from '../../src/core/log.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let upstream: http.Server;
let upstreamUrl: string;
let seen: Seen[] = [];
let answer: (req: IncomingMessage, res: ServerResponse, body: string) => void;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res, body);
    });
  });
  const port = await listen(upstream, '127.0.0.1', 0);
  upstreamUrl = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  seen = [];
});

async function proxy(credentials?: UpstreamCredentials, headers: Record<string, string> = {}): Promise<string> {
  const p = new HttpProxy({ target: `${upstreamUrl}/api/mcp`, headers, credentials, log: createLogger({ level: 'silent' }) });
  const server = http.createServer((req, res) => void p.handle(req, res));
  servers.push(server);
  const port = await listen(server, '127.0.0.1', 0);
  return `http://127.0.0.1:${port}`;
}

describe('the remote proxy', () => {
  it('keeps the path and query, strips the client credentials and adds the configured and credential headers', async () => {
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    const base = await proxy({ headers: async () => ({ Authorization: 'Bearer workload-token' }) }, { 'X-Tenant': 'acme' });
    const res = await fetch(`${base}/api/mcp?x=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer client-token', cookie: 'a=b', 'content-type': 'application/json', 'mcp-session-id': 's1' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const [req] = seen;
    expect(req!.url).toBe('/api/mcp?x=1');
    expect(req!.headers.authorization).toBe('Bearer workload-token');
    expect(req!.headers.cookie).toBeUndefined();
    expect(req!.headers['x-tenant']).toBe('acme');
    expect(req!.headers['mcp-session-id']).toBe('s1');
    expect(req!.headers.host).toBe(new URL(upstreamUrl).host);
    expect(req!.body).toBe('{"jsonrpc":"2.0","id":1,"method":"ping"}');
  });

  it('without credentials, the client Authorization header never reaches the remote', async () => {
    answer = (_req, res) => res.writeHead(204).end();
    const base = await proxy();
    await (await fetch(`${base}/api/mcp`, { headers: { authorization: 'Bearer client-token' } })).text();
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it('answers 503 with Retry-After at once while authentication is retrying', async () => {
    answer = (_req, res) => res.writeHead(200).end();
    const base = await proxy({
      headers: async () => {
        throw new AuthRetryingError(600);
      },
    });
    const res = await fetch(`${base}/api/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('600');
    await res.text();
    expect(seen).toEqual([]);
  });

  it('after a 401, refreshes the credentials and replays the request once with the same body', async () => {
    let token = 'old';
    answer = (req, res) => {
      if (req.headers.authorization === 'Bearer old') res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"fresh":true}');
    };
    const base = await proxy({
      headers: async () => ({ authorization: `Bearer ${token}` }),
      refreshAfterUnauthorized: async () => {
        token = 'new';
        return true;
      },
    });
    const res = await fetch(`${base}/api/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ fresh: true });
    expect(seen.map((s) => [s.headers.authorization, s.body])).toEqual([
      ['Bearer old', '{"n":1}'],
      ['Bearer new', '{"n":1}'],
    ]);
  });

  it('a 401 that refreshing cannot cure is passed on without the remote challenge', async () => {
    answer = (_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer resource_metadata="x"' }).end();
    const base = await proxy({ headers: async () => ({}), refreshAfterUnauthorized: async () => false });
    const res = await fetch(`${base}/api/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBeNull();
    await res.text();
    expect(seen).toHaveLength(1);
  });

  it('a 401 while the refresh is being retried answers 503 with Retry-After, not the 401', async () => {
    answer = (_req, res) => res.writeHead(401).end();
    const base = await proxy({
      headers: async () => ({ authorization: 'Bearer stale' }),
      refreshAfterUnauthorized: async () => {
        throw new AuthRetryingError(42);
      },
    });
    const res = await fetch(`${base}/api/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('42');
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/retried/);
    expect(seen).toHaveLength(1);
  });

  it('an unreachable remote is a 502', async () => {
    const dead = http.createServer();
    const port = await listen(dead, '127.0.0.1', 0);
    await new Promise<void>((r) => dead.close(() => r()));
    const p = new HttpProxy({ target: `http://127.0.0.1:${port}/mcp`, log: createLogger({ level: 'silent' }) });
    const server = http.createServer((req, res) => void p.handle(req, res));
    servers.push(server);
    const base = `http://127.0.0.1:${(await listen(server, '127.0.0.1', 0))}`;
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(502);
    await res.text();
  });

  it('passes an event stream through event by event', async () => {
    let sendSecond!: () => void;
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      sendSecond = () => res.end('data: second\n\n');
    };
    const base = await proxy();
    const res = await fetch(`${base}/api/mcp`, { headers: { accept: 'text/event-stream' } });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('data: first\n\n');
    sendSecond();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('data: second\n\n');
  });

  it('passes a response larger than its buffers through whole, holding back while the reader catches up', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    const base = await proxy();
    const res = await fetch(`${base}/api/mcp`);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
  });

  it('sends a request once more on a fresh connection when the remote closes a kept-alive one instead of answering', async () => {
    let n = 0;
    answer = (req, res) => {
      n++;
      if (n === 2) req.socket.destroy();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n }));
    };
    const base = await proxy();
    const post = () => fetch(`${base}/api/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(await (await post()).json()).toEqual({ n: 1 });
    const second = await post();
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ n: 3 });
  });

  it('does not send a request again when a fresh connection breaks: the remote may have acted on it', async () => {
    answer = (req) => req.socket.destroy();
    const base = await proxy();
    const res = await fetch(`${base}/api/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/call"}' });
    expect(res.status).toBe(502);
    expect(JSON.stringify(await res.json())).toContain('remote server unreachable');
    expect(seen).toHaveLength(1);
  });

  it('ends the request towards the remote when its client goes away', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    answer = (_req, res) => {
      res.on('close', upstreamClosed);
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: started\n\n');
    };
    const base = await proxy();
    const controller = new AbortController();
    const res = await fetch(`${base}/api/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: controller.signal });
    await res.body!.getReader().read();
    controller.abort();
    await closed;
  });

  it('shows a silent GET event stream as open before its first event', async () => {
    // A client's standalone GET stream may carry nothing for minutes; it must still connect.
    let finish!: () => void;
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
      finish = () => res.end();
    };
    const base = await proxy();
    const res = await fetch(`${base}/api/mcp`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    finish();
    expect(await res.text()).toBe('');
  });
});

describe('a request that cannot be sent upstream', () => {
  it('is answered 502 and the proxy keeps serving; handle() never rejects', async () => {
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    // A header value Node refuses to send (validated at create time; a credentials object could still produce one).
    let bad = true;
    const credentials: UpstreamCredentials = { headers: async (): Promise<Record<string, string>> => (bad ? { 'X-A': 'a\u0001b' } : {}) };
    const p = new HttpProxy({ target: `${upstreamUrl}/mcp`, credentials, log: createLogger({ level: 'silent' }) });
    const handled: Array<Promise<void>> = [];
    const server = http.createServer((req, res) => void handled.push(p.handle(req, res)));
    servers.push(server);
    const base = `http://127.0.0.1:${await listen(server, '127.0.0.1', 0)}`;

    const res = await fetch(`${base}/mcp`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(502);
    expect(JSON.stringify(await res.json())).toContain('could not be sent');
    await expect(Promise.all(handled)).resolves.toBeDefined();
    bad = false;
    expect((await fetch(`${base}/mcp`, { method: 'POST', body: '{}' })).status).toBe(200);
  });
});

describe('listen', () => {
  it('a port in use is a port_in_use error', async () => {
    const a = http.createServer();
    const port = await listen(a, '127.0.0.1', 0);
    const b = http.createServer();
    await expect(listen(b, '127.0.0.1', port)).rejects.toMatchObject({ code: 'port_in_use' });
    a.close();
  });
});

describe('the remote proxy under load', () => {
  it('refuses an oversized body and holds only a bounded number of bodies at once, forwarding neither', async () => {
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const p = new HttpProxy({ target: `${upstreamUrl}/mcp`, log: createLogger({ level: 'silent' }), limits: { maxBodyBytes: 1024, maxConcurrentBodies: 1 } });
    const server = http.createServer((req, res) => void p.handle(req, res));
    servers.push(server);
    const port = await listen(server, '127.0.0.1', 0);
    const big = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2048) });
    expect(big.status).toBe(413);
    // A body arriving slowly holds the only slot; the next one is refused at once.
    const slow = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' } });
    slow.on('error', () => undefined);
    slow.write('{"jsonrpc":');
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(503);
    slow.destroy();
    // Neither the oversized nor the unfinished body reached the remote.
    expect(seen.every((r) => r.body === '{}')).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
  });
});
