import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, textOf } from '../workloads/helpers.js';

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/**
 * What every endpoint thv serves to MCP clients promises over streamable HTTP, whether a stdio
 * bridge or a remote proxy stands behind it (one suite, run against each).
 */
export function describeStreamableHttp(label: string, start: () => Promise<{ url: string; close(): Promise<void> }>): void {
  describe(`${label}: streamable HTTP behaviour`, () => {
    let endpoint: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      endpoint = await start();
    });
    afterAll(() => endpoint.close());

    const initialize = async () => {
      const res = await fetch(endpoint.url, { method: 'POST', headers: HEADERS, body: JSON.stringify(INIT) });
      await res.text();
      return { res, session: res.headers.get('mcp-session-id') };
    };

    it('an SDK client lists and calls tools', async () => {
      const client = await connectClient(endpoint.url);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'count']));
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'same behaviour' } }))).toBe('same behaviour');
      await client.close();
    });

    it('streams progress notifications before the answer', async () => {
      const client = await connectClient(endpoint.url);
      const progress: number[] = [];
      const result = await client.callTool({ name: 'count', arguments: { n: 3 } }, undefined, { onprogress: (p) => void progress.push(p.progress) });
      expect(progress).toEqual([1, 2, 3]);
      expect(textOf(result)).toBe('counted 3');
      await client.close();
    });

    it('initialize opens a session named by Mcp-Session-Id', async () => {
      const { res, session } = await initialize();
      expect(res.status).toBe(200);
      expect(session).toMatch(/\S{8,}/);
    });

    it('an unknown session is 404', async () => {
      const res = await fetch(endpoint.url, {
        method: 'POST',
        headers: { ...HEADERS, 'mcp-session-id': 'no-such-session' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      expect(res.status).toBe(404);
      await res.text();
    });

    it('a request without a session is refused', async () => {
      const res = await fetch(endpoint.url, { method: 'POST', headers: HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
      expect(res.status).toBe(400);
      await res.text();
    });

    it('a notification is accepted with 202', async () => {
      const { session } = await initialize();
      const res = await fetch(endpoint.url, {
        method: 'POST',
        headers: { ...HEADERS, 'mcp-session-id': session! },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      });
      expect(res.status).toBe(202);
      await res.text();
    });

    it('GET opens an event stream for the session', async () => {
      const { session } = await initialize();
      const controller = new AbortController();
      const res = await fetch(endpoint.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': session! }, signal: controller.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      controller.abort();
    });

    it('DELETE ends the session; it is unknown afterwards', async () => {
      const { session } = await initialize();
      const del = await fetch(endpoint.url, { method: 'DELETE', headers: { 'mcp-session-id': session! } });
      expect(del.status).toBeLessThan(300);
      await del.text();
      const after = await fetch(endpoint.url, {
        method: 'POST',
        headers: { ...HEADERS, 'mcp-session-id': session! },
        body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
      });
      expect(after.status).toBe(404);
      await after.text();
    });
  });
}
