import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { StdioBridge } from '../../src/transport/stdio-bridge.js';
import { listen } from '../../src/transport/listen.js';
import { createLogger } from '../../src/core/log.js';

// `Mcp-Param-*` headers of 2026-07-28 (docs/workloads.md#protocol-eras): a tool marks arguments with
// `x-mcp-header`, clients mirror them into headers, and the server must refuse a call whose headers
// disagree with its body (−32020, HTTP 400). A stdio child sees no headers, so the bridge checks them
// against the schemas of the child's own tools/list answer. The child is answered in-process.

const MODERN = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const tools = [
  {
    name: 'query',
    inputSchema: {
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        limit: { type: 'integer', 'x-mcp-header': 'Limit' },
        options: { type: 'object', properties: { dryRun: { type: 'boolean', 'x-mcp-header': 'Dry-Run' } } },
        text: { type: 'string' },
      },
    },
  },
  { name: 'plain', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
];

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function start() {
  const calls: unknown[] = [];
  const bridge: StdioBridge = new StdioBridge({
    log: createLogger({ level: 'silent' }),
    send: (line) => {
      const msg = JSON.parse(line) as { id?: number | string; method: string; params?: { arguments?: unknown } };
      if (msg.id === undefined) return;
      let result: unknown = { content: [] };
      if (msg.method === 'server/discover') result = { supportedVersions: [MODERN], capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } };
      else if (msg.method === 'tools/list') result = { tools };
      else if (msg.method === 'tools/call') calls.push(msg.params?.arguments);
      queueMicrotask(() => bridge.receiveLine(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result })));
    },
  });
  bridge.childStarted();
  server = http.createServer((req, res) => void bridge.handle(req, res));
  const port = await listen(server, '127.0.0.1', 0);
  return { url: `http://127.0.0.1:${port}/mcp`, calls, bridge };
}

function rpc(url: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(typeof params.name === 'string' ? { 'mcp-name': params.name } : {}), ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } }),
  });
}

async function call(url: string, args: Record<string, unknown>, headers: Record<string, string>, name = 'query') {
  const res = await rpc(url, 'tools/call', { name, arguments: args }, headers);
  return { status: res.status, body: (await res.json()) as { error?: { code: number; message: string } } };
}

describe('Mcp-Param-* headers through the bridge', () => {
  it('forwards a call whose headers mirror its arguments, and refuses one that disagrees with -32020', async () => {
    const { url, calls } = await start();
    expect((await rpc(url, 'tools/list', {})).status).toBe(200);

    const ok = await call(url, { region: 'eu-west1', limit: 42, options: { dryRun: true } }, { 'mcp-param-region': 'eu-west1', 'mcp-param-limit': '42.0', 'mcp-param-dry-run': 'true' });
    expect(ok.status).toBe(200);
    expect(calls).toHaveLength(1);

    const wrong = await call(url, { region: 'eu-west1' }, { 'mcp-param-region': 'us-east1' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: -32020 });
    expect(wrong.body.error!.message).toMatch(/Mcp-Param-Region/);

    const missing = await call(url, { region: 'eu-west1', limit: 3 }, { 'mcp-param-region': 'eu-west1' });
    expect(missing.status).toBe(400);
    expect(missing.body.error!.message).toMatch(/Mcp-Param-Limit header is absent/);

    const nested = await call(url, { options: { dryRun: false } }, { 'mcp-param-dry-run': 'true' });
    expect(nested.status).toBe(400);
    expect(calls).toHaveLength(1);
  });

  it('decodes Base64 sentinel values, ignores headers of absent arguments and leaves unmarked tools alone', async () => {
    const { url, calls } = await start();
    await rpc(url, 'tools/list', {});
    const region = 'zürich';
    const sentinel = `=?base64?${Buffer.from(region).toString('base64')}?=`;
    expect((await call(url, { region }, { 'mcp-param-region': sentinel })).status).toBe(200);
    expect((await call(url, { region: 'x' }, { 'mcp-param-region': '=?base64?not base64?=' })).status).toBe(400);
    // Without the `?=` suffix the value is a literal, compared as it is (SEP-2243).
    const literal = `=?base64?${Buffer.from('Hello').toString('base64')}`;
    expect((await call(url, { region: literal }, { 'mcp-param-region': literal })).status).toBe(200);
    expect((await call(url, { text: 'no marked argument' }, { 'mcp-param-region': 'anything' })).status).toBe(200);
    expect((await call(url, { text: 'hi' }, {}, 'plain')).status).toBe(200);
    expect(calls).toHaveLength(4);
  });

  it('stops holding calls to a schema the child says has changed', async () => {
    const { url, bridge } = await start();
    await rpc(url, 'tools/list', {});
    expect((await call(url, { region: 'a' }, {})).status).toBe(400);
    bridge.receiveLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }));
    expect((await call(url, { region: 'a' }, {})).status).toBe(200);
  });
});
