import { afterEach, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import { StdioBridge, type BridgeLimits } from '../../src/transport/stdio-bridge.js';
import { listen } from '../../src/transport/listen.js';
import { createLogger } from '../../src/core/log.js';

// Bounded resources (docs/workloads.md#limits): a request whose client went away is cancelled
// towards the server and forgotten, sessions and requests in flight are capped, idle sessions are
// swept even with requests still in flight, and request bodies are capped in size and concurrency.
// The child is answered in-process: `hang` is never answered, everything else at once.

let server: http.Server | undefined;
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  server = undefined;
});

const MODERN = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };

async function start(options: { modern?: boolean; limits?: Partial<BridgeLimits>; idleMs?: number } = {}) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const cancelled: unknown[] = [];
  const bridge: StdioBridge = new StdioBridge({
    log: createLogger({ level: 'silent' }),
    clock,
    sessionIdleMs: options.idleMs ?? 60_000,
    ...(options.limits ? { limits: options.limits } : {}),
    send: (line) => {
      const msg = JSON.parse(line) as { id?: number | string; method: string; params?: { name?: string; requestId?: unknown } };
      if (msg.method === 'notifications/cancelled') cancelled.push(msg.params?.requestId);
      if (msg.id === undefined) return;
      if (msg.method === 'server/discover') {
        const answer = options.modern ? { result: { supportedVersions: [MODERN], capabilities: {}, serverInfo: { name: 'fake', version: '1' } } } : { error: { code: -32601, message: 'Method not found' } };
        queueMicrotask(() => bridge.receiveLine(JSON.stringify({ jsonrpc: '2.0', id: msg.id, ...answer })));
        return;
      }
      if (msg.params?.name === 'hang') return;
      queueMicrotask(() => bridge.receiveLine(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [] } })));
    },
  });
  bridge.childStarted();
  server = http.createServer((req, res) => void bridge.handle(req, res));
  servers.push(server);
  const port = await listen(server, '127.0.0.1', 0);
  return { bridge, clock, cancelled, url: `http://127.0.0.1:${port}/mcp` };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
}

const modernHeaders = (method: string, name?: string) => ({ 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) });

async function initialize(url: string): Promise<string> {
  const res = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

/** Sends `n` calls to `hang` and drops each once the bridge has forwarded it. */
async function abandon(bridge: StdioBridge, n: number, send: (signal: AbortSignal) => Promise<Response>, inflight: () => number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const controller = new AbortController();
    const pending = send(controller.signal).catch(() => undefined);
    await vi.waitFor(() => expect(inflight()).toBe(1));
    controller.abort();
    await pending;
    await vi.waitFor(() => expect(inflight()).toBe(0));
  }
}

describe('abandoned requests', () => {
  it('are cancelled towards a 2025-era server and forgotten', async () => {
    const { bridge, url, cancelled } = await start();
    const session = await initialize(url);
    await abandon(bridge, 20, (signal) => post(url, { jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'hang', _meta: { progressToken: 'p' } } }, { 'mcp-session-id': session }, signal), () => bridge.stats.legacyInflight);
    expect(cancelled).toHaveLength(20);
    expect(bridge.stats).toMatchObject({ legacyInflight: 0, legacyProgress: 0, sessionEntries: 0 });
  });

  it('are cancelled towards a 2026-07-28 server and forgotten', async () => {
    const { bridge, url, cancelled } = await start({ modern: true });
    await abandon(bridge, 20, (signal) => post(url, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'hang', _meta: { ...meta, progressToken: 1 } } }, modernHeaders('tools/call', 'hang'), signal), () => bridge.stats.modernInflight);
    expect(cancelled).toHaveLength(20);
    expect(bridge.stats).toMatchObject({ modernInflight: 0, modernProgress: 0 });
  });
});

describe('idle sessions', () => {
  it('are swept even with a request still in flight, which is then cancelled', async () => {
    const { bridge, url, clock, cancelled } = await start({ idleMs: 60_000 });
    const session = await initialize(url);
    // With a GET stream open, the answer could still go there: the request stays in flight.
    const controller = new AbortController();
    const stream = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': session }, signal: controller.signal });
    expect(stream.status).toBe(200);
    const call = new AbortController();
    const pending = post(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'hang' } }, { 'mcp-session-id': session }, call.signal).catch(() => undefined);
    await vi.waitFor(() => expect(bridge.stats.legacyInflight).toBe(1));
    call.abort();
    await pending;
    // A round trip on the session after the abort: the bridge has seen the POST go by then.
    expect((await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': session })).status).toBe(200);
    expect(bridge.stats.legacyInflight).toBe(1);
    controller.abort();
    await vi.waitFor(() => expect(bridge.stats.openStreams).toBe(0));
    expect(bridge.stats.legacyInflight).toBe(1);
    expect(cancelled).toHaveLength(0);
    clock.t += 61_000;
    expect(bridge.sweepIdleSessions()).toBe(1);
    expect(bridge.stats).toMatchObject({ sessions: 0, legacyInflight: 0 });
    expect(cancelled).toHaveLength(1);
  });
});

describe('caps', () => {
  it('makes room by dropping the longest-unused idle session; refuses with 503 when every session has a stream', async () => {
    const { url, clock } = await start({ limits: { maxSessions: 2 } });
    const a = await initialize(url);
    clock.t += 1000;
    const b = await initialize(url);
    clock.t += 1000;
    await initialize(url);
    expect((await post(url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': a })).status).toBe(404);
    expect((await post(url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': b })).status).toBe(200);

    const full = await start({ limits: { maxSessions: 2 } });
    const streams = [];
    for (let i = 0; i < 2; i++) {
      const session = await initialize(full.url);
      streams.push(await fetch(full.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': session } }));
    }
    const res = await post(full.url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/sessions/);
    for (const stream of streams) await stream.body?.cancel();
  });

  it('refuses requests in flight past the limit, in both eras', async () => {
    for (const modern of [false, true]) {
      const { url, bridge } = await start({ modern, limits: { maxInflight: 2 } });
      const session = modern ? undefined : await initialize(url);
      const headers = modern ? modernHeaders('tools/call', 'hang') : { 'mcp-session-id': session! };
      const params = modern ? { name: 'hang', _meta: meta } : { name: 'hang' };
      const controllers = [new AbortController(), new AbortController()];
      const hanging = controllers.map((c, i) => post(url, { jsonrpc: '2.0', id: i, method: 'tools/call', params }, headers, c.signal).catch(() => undefined));
      await vi.waitFor(() => expect(modern ? bridge.stats.modernInflight : bridge.stats.legacyInflight).toBe(2));
      const refused = await post(url, { jsonrpc: '2.0', id: 9, method: 'tools/call', params }, headers);
      expect(refused.status, modern ? 'modern' : 'legacy').toBe(503);
      for (const c of controllers) c.abort();
      await Promise.all(hanging);
    }
  });

  it('caps the size of a body and how many are read at once', async () => {
    const { url, bridge } = await start({ limits: { maxBodyBytes: 1024, maxConcurrentBodies: 1 } });
    const big = await post(url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'x'.repeat(2000) } });
    expect(big.status).toBe(413);
    // One body arriving slowly holds the only slot: the next one is refused at once.
    const port = Number(new URL(url).port);
    const slow = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' } });
    slow.on('error', () => undefined);
    slow.write('{"jsonrpc":');
    await vi.waitFor(() => expect(bridge.stats.bodiesReading).toBe(1));
    const refused = await post(url, { jsonrpc: '2.0', id: 2, method: 'initialize', params: {} });
    expect(refused.status).toBe(503);
    slow.destroy();
  });
});
