import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log.js';
import { readBody, BodyTooLargeError, type BodyGate } from './body.js';
import { MODERN_VERSION } from './mcp-era.js';

/** What the parts of the stdio bridge share: message shapes, limits, and small HTTP helpers. */

export type JsonRpcId = string | number;
export type Message = { jsonrpc: '2.0'; id?: JsonRpcId | null; method?: string; params?: Record<string, unknown>; [k: string]: unknown };

export const SESSION_HEADER = 'mcp-session-id';
export const KEEPALIVE_MS = 25_000;
/** Lines held for a child that is (re)starting. */
export const MAX_QUEUED = 10_000;

/** Resource bounds of one bridge (docs/workloads.md#limits); the supervisor reads overrides from the environment. */
export interface BridgeLimits {
  /** Requests in flight towards the child, per era. */
  maxInflight: number;
  /** Open 2025-era sessions (streamable HTTP and SSE). */
  maxSessions: number;
  /** Bytes of one request body. */
  maxBodyBytes: number;
  /** Request bodies being read at once. */
  maxConcurrentBodies: number;
}

export const DEFAULT_BRIDGE_LIMITS: BridgeLimits = {
  maxInflight: 4096,
  maxSessions: 4096,
  maxBodyBytes: 4 * 1024 * 1024,
  maxConcurrentBodies: 32,
};

export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

export function parseLine(line: string, log: Logger): Message | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  let msg: Message;
  try {
    msg = JSON.parse(trimmed) as Message;
  } catch {
    // Servers that print banners on stdout break the protocol; keep the text in the log.
    log.warn({ line: trimmed.slice(0, 200) }, 'ignored a non-JSON line on the MCP server stdout');
    return undefined;
  }
  return typeof msg === 'object' && msg !== null ? msg : undefined;
}

export function isModernHeader(req: IncomingMessage): boolean {
  const v = req.headers['mcp-protocol-version'];
  const value = (Array.isArray(v) ? v[0] : v)?.trim();
  return value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(value) && value >= MODERN_VERSION;
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isRequest(msg: Message): boolean {
  return typeof msg.method === 'string' && msg.id !== undefined && msg.id !== null;
}

export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`;
}

export function rpcError(code: number, message: string): unknown {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Reads and parses a JSON body within the size and concurrency limits; undefined once answered. */
export async function readJson(req: IncomingMessage, res: ServerResponse, limits: BridgeLimits, bodies: BodyGate): Promise<{ parsed: unknown } | undefined> {
  if (mediaType(req.headers['content-type']) !== 'application/json') {
    sendJson(res, 415, rpcError(-32000, 'Unsupported Media Type: Content-Type must be application/json'));
    return undefined;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limits.maxBodyBytes) {
    sendJson(res, 413, rpcError(-32000, 'Request body too large'), { connection: 'close' });
    return undefined;
  }
  const release = bodies.enter();
  if (!release) {
    sendJson(res, 503, rpcError(-32000, 'Too many requests being received at once; retry later'), { 'retry-after': '1', connection: 'close' });
    return undefined;
  }
  let body: string;
  try {
    body = await readBody(req, limits.maxBodyBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) sendJson(res, 413, rpcError(-32000, 'Request body too large'), { connection: 'close' });
    else res.destroy();
    return undefined;
  } finally {
    release();
  }
  try {
    return { parsed: JSON.parse(body) };
  } catch {
    sendJson(res, 400, rpcError(-32700, 'Parse error'));
    return undefined;
  }
}

/** The JSON-RPC messages of a parsed body (one, or a batch); undefined once answered with 400. */
export function toMessages(parsed: unknown, res: ServerResponse): { messages: Message[]; isBatch: boolean } | undefined {
  const isBatch = Array.isArray(parsed);
  const messages = (isBatch ? parsed : [parsed]) as Message[];
  if (messages.length === 0 || !messages.every((m) => typeof m === 'object' && m !== null && m.jsonrpc === '2.0')) {
    sendJson(res, 400, rpcError(-32600, 'Invalid Request'));
    return undefined;
  }
  return { messages, isBatch };
}
