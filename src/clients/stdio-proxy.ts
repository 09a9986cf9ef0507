import type { Readable, Writable } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientWorkload } from './catalog.js';

export interface StdioProxyOptions {
  workload: ClientWorkload;
  stdin?: Readable;
  stdout?: Writable;
  /** Diagnostics (stderr): stdout carries the protocol only. */
  log?: (line: string) => void;
}

/**
 * `thv proxy stdio <workload>`: a stdio MCP server for clients that only start commands (Claude
 * Desktop), relaying every JSON-RPC message unchanged to a running workload over streamable HTTP
 * (SSE for an SSE-only remote). The SDK's transports carry the messages; nothing is interpreted
 * except the initialize answer, whose protocol version goes on the HTTP requests that follow, so
 * both the session-based and later protocol revisions pass through. Resolves when stdin ends.
 */
export async function runStdioProxy(options: StdioProxyOptions): Promise<void> {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const stdin = options.stdin ?? process.stdin;
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const upstream = await upstreamTransport(options.workload);
  const local = new StdioServerTransport(stdin, options.stdout ?? process.stdout);
  const initializeIds = new Set<string | number>();

  const answerWithError = (message: JSONRPCMessage, err: unknown) => {
    if (!('id' in message) || !('method' in message)) return;
    const text = err instanceof Error ? err.message : String(err);
    log(`thv proxy: ${options.workload.name}: ${text}`);
    void local.send({ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: `thv could not reach workload "${options.workload.name}": ${text}` } });
  };

  local.onmessage = (message) => {
    if ('method' in message && message.method === 'initialize' && 'id' in message) initializeIds.add(message.id);
    upstream.send(message).catch((err: unknown) => answerWithError(message, err));
  };
  upstream.onmessage = (message) => {
    if ('result' in message && message.id !== undefined && initializeIds.has(message.id)) {
      initializeIds.delete(message.id);
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') upstream.setProtocolVersion?.(version);
    }
    void local.send(message);
  };
  upstream.onerror = (err) => log(`thv proxy: ${options.workload.name}: ${err.message}`);
  local.onerror = (err) => log(`thv proxy: bad input: ${err.message}`);

  await upstream.start();
  await local.start();
  await new Promise<void>((resolve) => {
    stdin.once('end', resolve);
    stdin.once('close', resolve);
  });
  const session = upstream as Transport & { terminateSession?: () => Promise<void> };
  await session.terminateSession?.().catch(() => undefined);
  await upstream.close().catch(() => undefined);
  await local.close().catch(() => undefined);
}

async function upstreamTransport(workload: ClientWorkload): Promise<Transport> {
  const url = workload.transport === 'streamable-http' ? workload.url : workload.streamableUrl;
  if (url !== undefined) {
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return new StreamableHTTPClientTransport(new URL(url), { fetch: withModernHeaders });
  }
  const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
  return new SSEClientTransport(new URL(workload.url));
}

const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';

/**
 * A 2026-07-28 ("modern") request names its revision in `_meta` and must repeat it, its method and
 * its tool/prompt/resource name in headers (docs/workloads.md#protocol-eras); the SDK's 2025-era
 * transport does not know them, so they are added here from the body. Other requests pass as they are.
 */
const withModernHeaders: typeof fetch = (input, init) => {
  if (init?.method === 'POST' && typeof init.body === 'string') {
    const extra = modernHeaders(init.body);
    if (extra) {
      const headers = new Headers(init.headers);
      for (const [name, value] of Object.entries(extra)) headers.set(name, value);
      return fetch(input, { ...init, headers });
    }
  }
  return fetch(input, init);
};

function modernHeaders(body: string): Record<string, string> | undefined {
  let message: { method?: unknown; params?: Record<string, unknown> };
  try {
    message = JSON.parse(body) as typeof message;
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message) || typeof message.method !== 'string') return undefined;
  const meta = message.params?._meta as Record<string, unknown> | undefined;
  const version = meta?.[PROTOCOL_VERSION_META];
  if (typeof version !== 'string') return undefined;
  const headers: Record<string, string> = { 'mcp-protocol-version': version, 'mcp-method': message.method };
  const field = message.method === 'resources/read' ? 'uri' : message.method === 'tools/call' || message.method === 'prompts/get' ? 'name' : undefined;
  const value = field ? message.params?.[field] : undefined;
  if (typeof value === 'string') headers['mcp-name'] = /^[\x20-\x7e]*$/.test(value) ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
  return headers;
}
