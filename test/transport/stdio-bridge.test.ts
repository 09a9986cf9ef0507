import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startInProcess, type InProcessWorkload } from '../workloads/in-process.js';
import { connectClient, textOf } from '../workloads/helpers.js';

let workload: InProcessWorkload;
beforeAll(async () => {
  workload = await startInProcess({ name: 'bridge-specific' });
});
afterAll(() => workload.close());

describe('the stdio bridge', () => {
  it('keeps concurrent sessions apart even though their request ids are the same', async () => {
    const [a, b] = await Promise.all([connectClient(workload.url), connectClient(workload.url)]);
    const calls = Array.from({ length: 20 }, (_, i) => [
      a.callTool({ name: 'echo', arguments: { text: `a${i}` } }).then(textOf),
      b.callTool({ name: 'echo', arguments: { text: `b${i}` } }).then(textOf),
    ]).flat();
    const results = await Promise.all(calls);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => [`a${i}`, `b${i}`]).flat());
    await Promise.all([a.close(), b.close()]);
  });

  it('carries a server→client request to the client and its answer back', async () => {
    const client = new Client({ name: 'roots-client', version: '1' }, { capabilities: { roots: {} } });
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///project', name: 'project' }] }));
    await client.connect(new StreamableHTTPClientTransport(new URL(workload.url)));
    const result = await client.callTool({ name: 'roots', arguments: {} });
    expect(JSON.parse(textOf(result))).toEqual([{ uri: 'file:///project', name: 'project' }]);
    await client.close();
  });

  it('answers with plain JSON to a client that does not accept event streams', async () => {
    const init = await fetch(workload.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'json', version: '1' } } }),
    });
    expect(init.headers.get('content-type')).toBe('application/json');
    const body = (await init.json()) as { id: string; result: { serverInfo: { name: string } } };
    expect(body.id).toBe('x');
    expect(body.result.serverInfo.name).toBe('fixture-stdio');
  });

  it('answers a batch with an array in request order', async () => {
    const session = await initialize();
    const res = await fetch(workload.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'one' } } },
        { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'echo', arguments: { text: 'two' } } },
      ]),
    });
    const body = (await res.json()) as Array<{ id: number }>;
    expect(body.map((m) => m.id).sort()).toEqual([7, 8]);
  });

  it('refuses malformed JSON with a JSON-RPC parse error', async () => {
    const res = await fetch(workload.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{nope' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it('serves legacy SSE clients on /sse', async () => {
    const client = new Client({ name: 'legacy', version: '1' });
    await client.connect(new SSEClientTransport(new URL(workload.url.replace(/\/mcp$/, '/sse'))));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over sse' } }))).toBe('over sse');
    await client.close();
  });

  it('answers 404 for other paths', async () => {
    const res = await fetch(workload.url.replace(/\/mcp$/, '/elsewhere'));
    expect(res.status).toBe(404);
    await res.text();
  });
});

async function initialize(): Promise<string> {
  const res = await fetch(workload.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

describe('callers from other sites', () => {
  it('a Host header that does not name the server is refused (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const url = new URL(workload.url);
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: '/mcp', method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end('{}');
    });
    expect(status).toBe(403);
  });

  it('a browser Origin of another site is refused; a local one is served', async () => {
    const post = (origin: string) =>
      fetch(workload.url, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'o', version: '1' } } }),
      }).then(async (r) => (await r.text(), r.status));
    expect(await post('https://evil.example')).toBe(403);
    expect(await post(`http://localhost:${new URL(workload.url).port}`)).toBe(200);
  });
});
