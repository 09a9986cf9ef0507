import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { z } from 'zod';
import { listen } from '../../src/transport/listen.js';
import { startInProcess, type InProcessWorkload } from '../workloads/in-process.js';
import { textOf } from '../workloads/helpers.js';

// A remote that speaks the legacy SSE transport (GET /sse + POST /messages), with the SDK's server.
let upstream: http.Server;
let upstreamUrl: string;
let workload: InProcessWorkload;
const transports = new Map<string, SSEServerTransport>();

beforeAll(async () => {
  upstream = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/sse') {
      const transport = new SSEServerTransport('/messages', res);
      transports.set(transport.sessionId, transport);
      const server = new McpServer({ name: 'sse-remote', version: '1' });
      server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
      await server.connect(transport);
      return;
    }
    const transport = transports.get(url.searchParams.get('sessionId') ?? '');
    if (req.method === 'POST' && url.pathname === '/messages' && transport) {
      await transport.handlePostMessage(req, res);
      return;
    }
    res.writeHead(404).end();
  });
  upstreamUrl = `http://127.0.0.1:${await listen(upstream, '127.0.0.1', 0)}/sse`;
  workload = await startInProcess({ name: 'sse-remote', remote_url: upstreamUrl, transport: 'sse' });
});

afterAll(async () => {
  await workload.close();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

describe('a remote that speaks legacy SSE', () => {
  it('is proxied at the same path, and its message endpoint is reached through the proxy', async () => {
    expect(new URL(workload.url).pathname).toBe('/sse');
    const client = new Client({ name: 'sse-client', version: '1' });
    await client.connect(new SSEClientTransport(new URL(workload.url)));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'through the proxy' } }))).toBe('through the proxy');
    await client.close();
  });
});
