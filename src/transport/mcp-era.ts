import type { IncomingHttpHeaders } from 'node:http';
import { classifyInboundRequest } from '@modelcontextprotocol/server';

/**
 * Telling the two MCP eras apart on one endpoint (docs/workloads.md#protocol-eras). The era of a
 * request comes from its body (`_meta["io.modelcontextprotocol/protocolVersion"]`), cross-checked
 * against the `MCP-Protocol-Version` header — the same body-primary ladder the official SDK's
 * dual-era HTTP entry runs, so a request is routed exactly as a dual-era server would route it.
 */

export const MODERN_VERSION = '2026-07-28';
export const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';
export const SUBSCRIPTION_ID_META = 'io.modelcontextprotocol/subscriptionId';
/** JSON-RPC error codes of the 2026-07-28 revision. */
export const HEADER_MISMATCH = -32020;
export const MISSING_CLIENT_CAPABILITY = -32021;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

export type Classified =
  | { kind: 'legacy' }
  | { kind: 'modern'; revision: string | undefined; isRequest: boolean }
  | { kind: 'reject'; status: number; code: number; message: string; data?: unknown };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Versions of the 2025 era a `MCP-Protocol-Version` header may name on the fast path below. */
const LEGACY_VERSIONS = new Set(['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']);
/** `_meta` envelopes (without their per-request progress token) the SDK's ladder found valid. */
const validEnvelopes = new Map<string, true>();
const MAX_ENVELOPES = 256;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The SDK's ladder validates every message with several zod schemas (~4× a JSON parse and
 * stringify of the message, measured): too much for the hot path of the bridge. The everyday
 * shapes are recognised here without it — a plain 2025-era request, and a 2026-07-28 request
 * whose envelope the ladder has already accepted once (clients send the same envelope on every
 * request) — and only where the ladder's answer is certain; anything else goes to the ladder.
 */
function fastClassify(headers: IncomingHttpHeaders, body: unknown): Classified | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== '2.0' || typeof body.method !== 'string' || 'result' in body || 'error' in body) return undefined;
  const id = body.id;
  if (!(typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)))) return undefined;
  const params = body.params;
  if (params !== undefined && !isPlainObject(params)) return undefined;
  const pv = header(headers, 'mcp-protocol-version')?.trim();
  const meta = params?._meta;
  if (meta === undefined) return pv === undefined || LEGACY_VERSIONS.has(pv) ? { kind: 'legacy' } : undefined;
  if (!isPlainObject(meta)) return undefined;
  const claim = meta[PROTOCOL_VERSION_META];
  if (claim !== MODERN_VERSION || pv !== MODERN_VERSION || body.method === 'initialize') return undefined;
  const mm = header(headers, 'mcp-method')?.trim();
  if (mm !== undefined && mm !== body.method) return undefined;
  const key = envelopeKey(meta);
  return key !== undefined && validEnvelopes.has(key) ? { kind: 'modern', revision: MODERN_VERSION, isRequest: true } : undefined;
}

/** The envelope without its progress token (which the spec types as a string or a number). */
function envelopeKey(meta: Record<string, unknown>): string | undefined {
  const { progressToken, ...rest } = meta;
  if (progressToken !== undefined && typeof progressToken !== 'string' && typeof progressToken !== 'number') return undefined;
  return JSON.stringify(rest);
}

/** The era of one POSTed body (already parsed), or the ladder's refusal. */
export function classify(method: string, headers: IncomingHttpHeaders, body: unknown): Classified {
  if (method === 'POST') {
    const fast = fastClassify(headers, body);
    if (fast) return fast;
  }
  const result = ladder(method, headers, body);
  // A modern request the ladder accepted: its envelope is valid, whatever the request.
  if (result.kind === 'modern' && result.isRequest && result.revision === MODERN_VERSION) {
    const meta = isPlainObject(body) && isPlainObject(body.params) ? body.params._meta : undefined;
    const key = isPlainObject(meta) ? envelopeKey(meta) : undefined;
    if (key !== undefined) {
      if (validEnvelopes.size >= MAX_ENVELOPES) validEnvelopes.clear();
      validEnvelopes.set(key, true);
    }
  }
  return result;
}

function ladder(method: string, headers: IncomingHttpHeaders, body: unknown): Classified {
  const pv = header(headers, 'mcp-protocol-version');
  const mm = header(headers, 'mcp-method');
  const mn = header(headers, 'mcp-name');
  const outcome = classifyInboundRequest({
    httpMethod: method,
    ...(pv !== undefined ? { protocolVersionHeader: pv } : {}),
    ...(mm !== undefined ? { mcpMethodHeader: mm } : {}),
    ...(mn !== undefined ? { mcpNameHeader: mn } : {}),
    body,
  });
  if (outcome.kind === 'legacy') return { kind: 'legacy' };
  if (outcome.kind === 'reject') {
    return { kind: 'reject', status: outcome.httpStatus, code: outcome.code, message: outcome.message, ...(outcome.data !== undefined ? { data: outcome.data } : {}) };
  }
  return { kind: 'modern', revision: outcome.classification.revision, isRequest: outcome.messageKind === 'request' };
}

const NAME_SOURCE: Record<string, 'name' | 'uri'> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/**
 * The standard request headers a modern request must carry and that must agree with its body
 * (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`): a stdio child has no headers to check, so the
 * bridge is the server that validates them. Returns the −32020 message, or undefined when fine.
 */
export function standardHeaderMismatch(headers: IncomingHttpHeaders, msg: { method?: unknown; params?: unknown }): string | undefined {
  const method = typeof msg.method === 'string' ? msg.method : '';
  if (header(headers, 'mcp-protocol-version') === undefined) return 'Bad Request: the required MCP-Protocol-Version header is absent';
  const mm = header(headers, 'mcp-method');
  if (mm === undefined) return `Bad Request: the body names method ${method} but the required Mcp-Method header is absent`;
  if (mm.trim() !== method) return `Bad Request: the body names method ${method} but the Mcp-Method header names ${mm}`;
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method] : undefined;
  if (!field) return undefined;
  const params = (msg.params ?? {}) as Record<string, unknown>;
  const bodyValue = typeof params[field] === 'string' ? (params[field] as string) : undefined;
  const raw = header(headers, 'mcp-name');
  if (raw === undefined) return bodyValue === undefined ? undefined : `Bad Request: the body carries params.${field} but the required Mcp-Name header is absent`;
  const decoded = decodeHeaderValue(raw.trim());
  if (decoded === undefined) return 'Bad Request: the Mcp-Name header carries an invalid Base64 sentinel value';
  if (bodyValue !== undefined && decoded !== bodyValue) return `Bad Request: the body carries params.${field}="${bodyValue}" but the Mcp-Name header names "${decoded}"`;
  return undefined;
}

const SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;

/**
 * Header values that are not plain ASCII travel as `=?base64?…?=`; undefined when that is malformed.
 * Only a value with both the prefix and the `?=` suffix is a sentinel: `=?base64?SGVsbG8=` is a literal
 * (SEP-2243's test-case table; the conformance suite's http-custom-header-server-validation checks it).
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (!value.startsWith('=?base64?') || !value.endsWith('?=') || value.length < '=?base64??='.length) return value;
  const m = SENTINEL.exec(value);
  if (!m || m[1]!.length % 4 !== 0) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(m[1]!, 'base64'));
  } catch {
    return undefined;
  }
}

/**
 * HTTP status of a modern error answer sent as plain JSON: the protocol's own rejections carry
 * their status (method not found is 404, version/capability/header errors 400), everything else is
 * an in-band error on 200.
 */
export function statusForError(code: number): number {
  if (code === -32601) return 404;
  if (code === -32700 || code === -32600 || code === HEADER_MISMATCH || code === MISSING_CLIENT_CAPABILITY || code === UNSUPPORTED_PROTOCOL_VERSION) return 400;
  return 200;
}
