import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import * as z from 'zod/v4';
import { startInProcess, type InProcessWorkload } from '../workloads/in-process.js';
import { pidsIn, textOf, STDIO_FIXTURE } from '../workloads/helpers.js';
import { listen } from '../../src/transport/listen.js';
import { ChildRecordStore, otherEraRecordName } from '../../src/workloads/child-record.js';

// Both MCP eras on one endpoint (docs/workloads.md#protocol-eras): a v2 client pinned to 2026-07-28
// and a v1 client, side by side, through the stdio bridge (a v2-SDK dual-era stdio server and a
// v1-SDK legacy-only one) and through the remote proxy (a v2-SDK HTTP server).
const V2_FIXTURE = resolve(import.meta.dirname, '../fixtures/mcp-v2-stdio-server.mjs');
const MODERN = '2026-07-28';

async function modernClient(url: string): Promise<V2Client> {
  const client = new V2Client({ name: 'v2-pinned', version: '1' }, { versionNegotiation: { mode: { pin: MODERN } }, capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }));
  await client.connect(new V2Transport(new URL(url)));
  return client;
}

async function legacyClient(url: string): Promise<V1Client> {
  const client = new V1Client({ name: 'v1', version: '1' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Grace' } }));
  await client.connect(new V1Transport(new URL(url)));
  return client;
}

const rawMeta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
function rawPost(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
}

describe('a dual-era (v2 SDK serveStdio) server through the bridge', () => {
  let workload: InProcessWorkload;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'thv-era-'));
    workload = await startInProcess({ name: 'dual-era', command: process.execPath, args: [V2_FIXTURE], env: { FIXTURE_PID_FILE: join(dir, 'pids') } });
  });
  afterAll(async () => {
    await workload.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a client pinned to 2026-07-28 and a 2025-era client side by side, whichever comes first', async () => {
    const modern = await modernClient(workload.url);
    expect(modern.getProtocolEra()).toBe('modern');
    expect(textOf(await modern.callTool({ name: 'echo', arguments: { text: 'm1' } }))).toBe('m1');
    const legacy = await legacyClient(workload.url);
    expect(textOf(await legacy.callTool({ name: 'echo', arguments: { text: 'l1' } }))).toBe('l1');
    // The modern client is not disturbed by the legacy session, and a second modern client connects.
    const modern2 = await modernClient(workload.url);
    const [m, l, m2] = await Promise.all([
      modern.callTool({ name: 'echo', arguments: { text: 'm2' } }),
      legacy.callTool({ name: 'echo', arguments: { text: 'l2' } }),
      modern2.callTool({ name: 'echo', arguments: { text: 'm3' } }),
    ]);
    expect([textOf(m), textOf(l), textOf(m2)]).toEqual(['m2', 'l2', 'm3']);
    // One era per stdio connection: the 2025-era session is served by a second copy of the server.
    const modernPid = textOf(await modern.callTool({ name: 'pid', arguments: {} }));
    const legacyPid = textOf(await legacy.callTool({ name: 'pid', arguments: {} }));
    expect(modernPid).not.toBe(legacyPid);
    expect((await pidsIn(join(dir, 'pids'))).map(String).sort()).toEqual([modernPid, legacyPid].sort());
    // Both copies are recorded, so reconciliation stops both if the supervisor is killed.
    const records = new ChildRecordStore(workload.paths);
    const recorded = [(await records.read('dual-era'))?.pgid, (await records.read(otherEraRecordName('dual-era')))?.pgid];
    expect(recorded.map(String).sort()).toEqual([modernPid, legacyPid].sort());
    await Promise.all([modern.close(), modern2.close(), legacy.close()]);
  });

  it('carries the input_required round trip (modern) and elicitation (2025-era) through', async () => {
    const modern = await modernClient(workload.url);
    expect(textOf(await modern.callTool({ name: 'greet', arguments: {} }))).toBe('Hello, Ada!');
    const legacy = await legacyClient(workload.url);
    expect(textOf(await legacy.callTool({ name: 'greet', arguments: {} }))).toBe('Hello, Grace!');
    await Promise.all([modern.close(), legacy.close()]);
  });

  it('streams progress of a modern request on its own response', async () => {
    const modern = await modernClient(workload.url);
    const seen: number[] = [];
    const result = await modern.callTool({ name: 'count', arguments: { n: 3 } }, { onprogress: (p) => void seen.push(p.progress) });
    expect(textOf(result)).toBe('counted 3');
    expect(seen).toEqual([1, 2, 3]);
    await modern.close();
  });

  it('answers an initialize carrying 2026-07-28 _meta as the server does, without fixing the era for anyone', async () => {
    const res = await rawPost(workload.url, { jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' }, _meta: rawMeta } }, { 'mcp-protocol-version': MODERN, 'mcp-method': 'initialize' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32601);
    const legacy = await legacyClient(workload.url);
    expect(textOf(await legacy.callTool({ name: 'echo', arguments: { text: 'still legacy' } }))).toBe('still legacy');
    await legacy.close();
  });

  it('validates modern requests like a 2026-07-28 server: versions, headers, batches, GET/DELETE', async () => {
    const discover = await rawPost(workload.url, { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: rawMeta } }, { 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' });
    expect(discover.status).toBe(200);
    expect(((await discover.json()) as { result: { supportedVersions: string[] } }).result.supportedVersions).toContain(MODERN);

    const future = { ...rawMeta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    const unsupported = await rawPost(workload.url, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: future } }, { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' });
    expect(unsupported.status).toBe(400);
    const unsupportedBody = (await unsupported.json()) as { error: { code: number; data: { supported: string[] } } };
    expect(unsupportedBody.error.code).toBe(-32022);
    expect(unsupportedBody.error.data.supported).toContain(MODERN);

    const wrongName = await rawPost(workload.url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: rawMeta } }, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'pid' });
    expect(wrongName.status).toBe(400);
    expect(((await wrongName.json()) as { error: { code: number } }).error.code).toBe(-32020);
    const noMethod = await rawPost(workload.url, { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: rawMeta } }, { 'mcp-protocol-version': MODERN });
    expect(noMethod.status).toBe(400);
    expect(((await noMethod.json()) as { error: { code: number } }).error.code).toBe(-32020);

    const batch = await rawPost(workload.url, [{ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: rawMeta } }], { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' });
    expect(batch.status).toBe(400);

    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(workload.url, { method, headers: { accept: 'text/event-stream', 'mcp-protocol-version': MODERN } });
      expect(res.status).toBe(405);
    }
  });

  it('delivers subscriptions/listen notifications on the listen stream, with the client\'s own id', async () => {
    const res = await rawPost(workload.url, { jsonrpc: '2.0', id: 'sub-1', method: 'subscriptions/listen', params: { _meta: rawMeta, notifications: { toolsListChanged: true } } }, { 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('acknowledged')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"io.modelcontextprotocol/subscriptionId":"sub-1"');
    await reader.cancel();
  });
});

describe('a dual-era server whose first client is a 2025-era one', () => {
  let workload: InProcessWorkload;
  beforeAll(async () => {
    workload = await startInProcess({ name: 'legacy-first', command: process.execPath, args: [V2_FIXTURE] });
  });
  afterAll(() => workload.close());

  it('still serves a client pinned to 2026-07-28 afterwards', async () => {
    const legacy = await legacyClient(workload.url);
    expect(textOf(await legacy.callTool({ name: 'echo', arguments: { text: 'first' } }))).toBe('first');
    const modern = await modernClient(workload.url);
    expect(modern.getProtocolEra()).toBe('modern');
    expect(textOf(await modern.callTool({ name: 'echo', arguments: { text: 'second' } }))).toBe('second');
    expect(textOf(await legacy.callTool({ name: 'echo', arguments: { text: 'third' } }))).toBe('third');
    await Promise.all([modern.close(), legacy.close()]);
  });
});

describe('a 2025-era-only (v1 SDK) server through the bridge', () => {
  let workload: InProcessWorkload;
  beforeAll(async () => {
    workload = await startInProcess({ name: 'legacy-only', command: process.execPath, args: [STDIO_FIXTURE] });
  });
  afterAll(() => workload.close());

  it('refuses a client pinned to 2026-07-28 as a 2025-era server would, and an auto client falls back', async () => {
    const pinned = new V2Client({ name: 'v2-pinned', version: '1' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await expect(pinned.connect(new V2Transport(new URL(workload.url)))).rejects.toThrow(/negotiation/i);
    const auto = new V2Client({ name: 'v2-auto', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await auto.connect(new V2Transport(new URL(workload.url)));
    expect(auto.getProtocolEra()).toBe('legacy');
    expect(textOf(await auto.callTool({ name: 'echo', arguments: { text: 'fell back' } }))).toBe('fell back');
    await auto.close();
  });

  it('answers a raw 2026-07-28 request as a v1-SDK HTTP server does: 400, -32000, id null', async () => {
    // The v1 SDK's transport errors carry `id: null`; echoing the id made `npm run conformance` pass
    // scenarios through the bridge that the same server fails directly (docs/workloads.md#conformance).
    const res = await rawPost(workload.url, { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: rawMeta } }, { 'mcp-protocol-version': MODERN });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { id: unknown; error: { code: number } };
    expect(body).toMatchObject({ id: null, error: { code: -32000 } });
  });
});

describe('a dual-era HTTP server through the remote proxy', () => {
  let upstream: http.Server;
  let workload: InProcessWorkload;
  beforeAll(async () => {
    const handler = createMcpHandler(() => {
      const server = new McpServer({ name: 'remote-v2', version: '1' });
      server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
      return server;
    });
    const node = toNodeHandler(handler);
    upstream = http.createServer((req, res) => void node(req, res));
    const port = await listen(upstream, '127.0.0.1', 0);
    workload = await startInProcess({ name: 'remote-era', remote_url: `http://127.0.0.1:${port}/mcp`, transport: 'streamable-http' });
  });
  afterAll(async () => {
    await workload.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it('serves a client pinned to 2026-07-28 and a 2025-era client', async () => {
    const modern = await modernClient(workload.url);
    expect(modern.getProtocolEra()).toBe('modern');
    const legacy = await legacyClient(workload.url);
    const [m, l] = await Promise.all([modern.callTool({ name: 'echo', arguments: { text: 'pm' } }), legacy.callTool({ name: 'echo', arguments: { text: 'pl' } })]);
    expect([textOf(m), textOf(l)]).toEqual(['pm', 'pl']);
    await Promise.all([modern.close(), legacy.close()]);
  });
});
