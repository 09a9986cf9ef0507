import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log.js';
import { openEventStream, writeEvent } from './sse.js';
import { statusForError, standardHeaderMismatch, HEADER_MISMATCH, MODERN_VERSION, SUBSCRIPTION_ID_META, UNSUPPORTED_PROTOCOL_VERSION } from './mcp-era.js';
import type { ChildEra } from './era-probe.js';
import { ToolParamHeaders } from './mcp-param-headers.js';
import { sendJson } from './bridge-common.js';

type JsonRpcId = string | number;
type Message = { jsonrpc: '2.0'; id?: JsonRpcId | null; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { code: number; message: string; data?: unknown } };

const KEEPALIVE_MS = 25_000;

interface Pending {
  res: ServerResponse;
  originalId: JsonRpcId;
  canStream: boolean;
  streaming: boolean;
  listen: boolean;
  /** A `tools/list`: its answer tells which `Mcp-Param-*` headers the tools expect. */
  toolsList: boolean;
  progressToken: number | undefined;
  keepalive: NodeJS.Timeout | undefined;
  onClose: () => void;
}

export interface ModernChannelOptions {
  /** Writes one JSON-RPC message (no trailing newline) to the child's stdin. */
  send: (line: string) => void;
  log: Logger;
  /** Requests (including open `subscriptions/listen` streams) in flight at once; more get 503. */
  maxInflight: number;
}

/**
 * Serves 2026-07-28 requests against one stdio child (docs/workloads.md#protocol-eras): no session,
 * every POST is one request; its id (and progress token) is remapped so that clients never collide
 * on the shared stdio channel, its answer goes back on its own HTTP response, and closing that
 * response cancels it towards the child. `subscriptions/listen` streams are told apart by the
 * subscription id the child stamps on each notification (the listen request's id on stdio).
 */
export class ModernChannel {
  private readonly pending = new Map<number, Pending>();
  private readonly progress = new Map<number, { childId: number; original: unknown }>();
  private nextId = 1;
  private nextToken = 1;
  /** The most recent plain request, for notifications the child does not correlate (logging). */
  private lastRequest: number | undefined;
  private readonly paramHeaders = new ToolParamHeaders();

  constructor(private readonly options: ModernChannelOptions) {}

  get inflight(): number {
    return this.pending.size;
  }

  get trackedProgressTokens(): number {
    return this.progress.size;
  }

  /**
   * A classified 2026-07-28 POST: checked as the HTTP server of a stdio child must (the child has no
   * headers to check), then forwarded. `era` is what the probe learnt about the child.
   */
  post(req: IncomingMessage, res: ServerResponse, msg: Message, revision: string | undefined, isRequest: boolean, era: ChildEra | undefined): void {
    const id = isRequest ? (msg.id as JsonRpcId) : null;
    if (!era?.modern) {
      // A 2025-era server: answer as one would (no modern error), so dual-era clients fall back to
      // initialize and modern-only clients report that the server is too old. `id: null` as the v1 SDK
      // answers transport-level refusals (docs/workloads.md#conformance).
      sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: `Bad Request: this MCP server does not support protocol version ${revision ?? MODERN_VERSION}; it needs the initialize handshake (2025-era clients)` } });
      return;
    }
    if (revision === undefined || !era.versions.includes(revision)) {
      sendJson(res, 400, { jsonrpc: '2.0', id, error: { code: UNSUPPORTED_PROTOCOL_VERSION, message: `Unsupported protocol version: ${revision ?? 'unknown'}`, data: { supported: era.versions, requested: revision ?? 'unknown' } } });
      return;
    }
    if (isRequest) {
      const mismatch = standardHeaderMismatch(req.headers, msg) ?? this.paramHeaders.check(msg, req.headers);
      if (mismatch) {
        sendJson(res, 400, { jsonrpc: '2.0', id, error: { code: HEADER_MISMATCH, message: mismatch } });
        return;
      }
      try {
        this.request(msg, res, (req.headers.accept ?? '').includes('text/event-stream'));
      } catch (err) {
        sendJson(res, 503, { jsonrpc: '2.0', id, error: { code: -32000, message: (err as Error).message } }, { 'retry-after': '1' });
      }
      return;
    }
    try {
      this.notify(msg);
    } catch {
      // A notification for a server that is not there is dropped, as the child would never see it.
    }
    res.writeHead(202).end();
  }

  /** Forwards one modern request; the answer is written to `res` when the child sends it. */
  request(msg: Message, res: ServerResponse, canStream: boolean): void {
    if (this.pending.size >= this.options.maxInflight) {
      sendJson(res, 503, { jsonrpc: '2.0', id: msg.id ?? null, error: { code: -32000, message: `too many requests in flight (limit ${this.options.maxInflight}); retry later` } }, { 'retry-after': '1' });
      return;
    }
    const childId = this.nextId++;
    const entry: Pending = {
      res,
      originalId: msg.id as JsonRpcId,
      canStream,
      streaming: false,
      listen: msg.method === 'subscriptions/listen',
      toolsList: msg.method === 'tools/list',
      progressToken: undefined,
      keepalive: undefined,
      onClose: () => this.abandon(childId),
    };
    const meta = msg.params?._meta as Record<string, unknown> | undefined;
    if (meta && meta.progressToken !== undefined) {
      const token = this.nextToken++;
      this.progress.set(token, { childId, original: meta.progressToken });
      entry.progressToken = token;
      msg.params = { ...msg.params, _meta: { ...meta, progressToken: token } };
    }
    this.pending.set(childId, entry);
    if (!entry.listen) this.lastRequest = childId;
    res.on('close', entry.onClose);
    msg.id = childId;
    this.options.send(JSON.stringify(msg));
  }

  /** A modern notification from a client: passed on as it is (there is nothing to remap). */
  notify(msg: Message): void {
    this.options.send(JSON.stringify(msg));
  }

  /** Handles a line from the child; false when it is not the channel's (never for a modern child). */
  receive(msg: Message): void {
    if (typeof msg.method === 'string') {
      if (msg.id !== undefined && msg.id !== null) {
        // The 2026-07-28 revision has no server→client requests (they are input_required results).
        this.options.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'server-to-client requests are not part of protocol version 2026-07-28' } }));
        return;
      }
      this.notification(msg);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    this.settle(msg.id, entry);
    msg.id = entry.originalId;
    if (entry.toolsList && msg.result) this.paramHeaders.learn(msg.result);
    if (entry.listen) rewriteSubscriptionId(msg as unknown as { result?: { _meta?: Record<string, unknown> } }, entry.originalId);
    if (entry.streaming) {
      writeEvent(entry.res, JSON.stringify(msg));
      entry.res.end();
      return;
    }
    const status = msg.error ? statusForError(msg.error.code) : 200;
    sendJson(entry.res, status, msg);
  }

  private notification(msg: Message): void {
    if (msg.method === 'notifications/tools/list_changed') this.paramHeaders.clear();
    const params = msg.params ?? {};
    const meta = params._meta as Record<string, unknown> | undefined;
    let childId: number | undefined;
    if (meta && typeof meta[SUBSCRIPTION_ID_META] === 'number') {
      childId = meta[SUBSCRIPTION_ID_META] as number;
      const entry = this.pending.get(childId);
      if (!entry) return;
      msg.params = { ...params, _meta: { ...meta, [SUBSCRIPTION_ID_META]: entry.originalId } };
    } else if (msg.method === 'notifications/progress') {
      const mapped = typeof params.progressToken === 'number' ? this.progress.get(params.progressToken) : undefined;
      if (!mapped) return;
      childId = mapped.childId;
      msg.params = { ...params, progressToken: mapped.original };
    } else {
      // stdio carries no related-request id: a log message goes to the request sent last.
      childId = this.lastRequest;
    }
    const entry = childId === undefined ? undefined : this.pending.get(childId);
    if (!entry || !entry.canStream) return;
    if (!entry.streaming) {
      entry.streaming = true;
      openEventStream(entry.res);
      if (entry.listen) entry.keepalive = setInterval(() => entry.res.write(':\n\n'), KEEPALIVE_MS).unref();
    }
    writeEvent(entry.res, JSON.stringify(msg));
  }

  /** The client went away before the answer: cancel the request towards the child and forget it. */
  private abandon(childId: number): void {
    const entry = this.pending.get(childId);
    if (!entry) return;
    this.settle(childId, entry);
    this.options.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: childId, reason: 'the client closed the connection' } }));
  }

  private settle(childId: number, entry: Pending): void {
    this.pending.delete(childId);
    entry.res.off('close', entry.onClose);
    clearInterval(entry.keepalive);
    if (entry.progressToken !== undefined) this.progress.delete(entry.progressToken);
    if (this.lastRequest === childId) this.lastRequest = undefined;
  }

  /** The child is gone: requests in flight get an error, listen streams end (clients re-listen). */
  childExited(reason: string): void {
    this.paramHeaders.clear();
    for (const [childId, entry] of this.pending) {
      this.settle(childId, entry);
      const msg = { jsonrpc: '2.0', id: entry.originalId, error: { code: -32603, message: `MCP server process exited (${reason}); it is being restarted` } };
      if (entry.streaming) {
        if (!entry.listen) writeEvent(entry.res, JSON.stringify(msg));
        entry.res.end();
      } else sendJson(entry.res, 503, msg, { 'retry-after': '1' });
    }
  }

  closeAll(): void {
    for (const [childId, entry] of this.pending) {
      this.settle(childId, entry);
      entry.res.destroy();
    }
  }
}

function rewriteSubscriptionId(msg: { result?: { _meta?: Record<string, unknown> } }, original: JsonRpcId): void {
  const meta = msg.result?._meta;
  if (meta && meta[SUBSCRIPTION_ID_META] !== undefined) msg.result!._meta = { ...meta, [SUBSCRIPTION_ID_META]: original };
}
