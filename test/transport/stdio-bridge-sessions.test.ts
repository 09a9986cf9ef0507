import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { StdioBridge } from '../../src/transport/stdio-bridge.js';
import { listen } from '../../src/transport/listen.js';
import { createLogger } from '../../src/core/log.js';

// The child here is a few lines of JSON-RPC answered in-process: enough to drive sessions.
let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function bridgeWithClock(idleMs: number) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const bridge: StdioBridge = new StdioBridge({
    log: createLogger({ level: 'silent' }),
    clock,
    sessionIdleMs: idleMs,
    send: (line) => {
      const msg = JSON.parse(line) as { id?: number; method: string };
      if (msg.id !== undefined) queueMicrotask(() => bridge.receiveLine(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} })));
    },
  });
  bridge.childStarted();
  server = http.createServer((req, res) => void bridge.handle(req, res));
  const port = await listen(server, '127.0.0.1', 0);
  return { bridge, clock, url: `http://127.0.0.1:${port}/mcp` };
}

const post = (url: string, body: unknown, session?: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(session ? { 'mcp-session-id': session } : {}) },
    body: JSON.stringify(body),
  });

describe('idle sessions', () => {
  it('a session nobody used for longer than the idle limit is forgotten; a used one is kept', async () => {
    const { bridge, clock, url } = await bridgeWithClock(60_000);
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} };
    const a = (await post(url, init)).headers.get('mcp-session-id')!;
    const b = (await post(url, init)).headers.get('mcp-session-id')!;
    clock.t += 50_000;
    expect((await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' }, b)).status).toBe(200);
    clock.t += 20_000;
    expect(bridge.sweepIdleSessions()).toBe(1);
    expect((await post(url, { jsonrpc: '2.0', id: 3, method: 'ping' }, a)).status).toBe(404);
    expect((await post(url, { jsonrpc: '2.0', id: 4, method: 'ping' }, b)).status).toBe(200);
  });
});
