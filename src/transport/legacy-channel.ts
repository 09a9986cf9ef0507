import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { writeEvent } from './sse.js';
import { PostReply } from './post-reply.js';
import { SessionTable, type Session } from './legacy-sessions.js';
import { MAX_QUEUED, SESSION_HEADER, idKey, isRequest, rpcError, sendJson, type BridgeLimits, type JsonRpcId, type Message } from './bridge-common.js';

interface Pending {
  session: Session;
  originalId: JsonRpcId;
  reply: PostReply | undefined;
  progressToken: number | undefined;
}

export interface LegacyChannelOptions {
  /** Writes one line to the child that serves the 2025 era. */
  send: (line: string) => void;
  /** Called before anything is written: decides which child serves the 2025 era (it may call `hold()`). */
  route: () => void;
  clock: Pick<Clock, 'now'>;
  limits: BridgeLimits;
  sessionIdleMs: number;
}

/**
 * Serves 2025-era sessions against one stdio child (docs/workloads.md#the-stdio-bridge): request ids
 * and progress tokens are remapped bridge-wide so sessions never collide, answers go to the POST they
 * belong to (or the session's stream), and the first `initialize` is replayed to a restarted child so
 * sessions survive a crash.
 */
export class LegacyChannel {
  readonly sessions: SessionTable;
  private readonly pending = new Map<number, Pending>();
  private readonly progress = new Map<number, { childId: number; original: unknown }>();
  private nextId = 1;
  private nextToken = 1;
  private nextServerRequest = 1;
  private lastRequest: number | undefined;
  private ready = true;
  private queue: string[] = [];
  private initParams: Record<string, unknown> | undefined;
  private replayId: string | undefined;

  constructor(private readonly options: LegacyChannelOptions) {
    this.sessions = new SessionTable({
      clock: options.clock,
      maxSessions: options.limits.maxSessions,
      idleMs: options.sessionIdleMs,
      onDrop: (session) => this.cancel([...session.inflight.values()], 'the session ended'),
    });
  }

  get isReady(): boolean {
    return this.ready;
  }

  get inflight(): number {
    return this.pending.size;
  }

  get trackedProgressTokens(): number {
    return this.progress.size;
  }

  /** Holds new traffic until `childStarted` (a second child is starting). */
  hold(): void {
    this.ready = false;
  }

  // ---- child side -------------------------------------------------------------------------------

  receive(msg: Message): void {
    if (typeof msg.method === 'string') {
      if (msg.id !== undefined && msg.id !== null) this.fromChildRequest(msg);
      else this.fromChildNotification(msg);
      return;
    }
    if (msg.id === this.replayId && this.replayId !== undefined) {
      this.replayId = undefined;
      this.options.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      this.flush();
      return;
    }
    if (typeof msg.id !== 'number') return;
    const pending = this.pending.get(msg.id);
    if (!pending) return;
    this.settle(msg.id, pending);
    msg.id = pending.originalId;
    this.deliver(pending.session, msg, pending.reply, true);
  }

  /** The child is gone: everything in flight gets an error, new traffic waits until it is back. */
  childExited(reason: string): void {
    this.ready = false;
    this.replayId = undefined;
    // Queued lines belong to requests answered below; a new child must not see them.
    this.queue = [];
    for (const [childId, pending] of this.pending) {
      this.settle(childId, pending);
      this.deliver(
        pending.session,
        { jsonrpc: '2.0', id: pending.originalId, error: { code: -32000, message: `MCP server process exited (${reason}); it is being restarted` } },
        pending.reply,
        true,
      );
    }
    for (const session of this.sessions.values()) session.serverRequests.clear();
  }

  /** The child is ready: replays the first initialize so existing sessions keep working. */
  childStarted(): void {
    if (this.initParams) {
      this.replayId = `thv-replay-${randomUUID()}`;
      this.options.send(JSON.stringify({ jsonrpc: '2.0', id: this.replayId, method: 'initialize', params: this.initParams }));
      return;
    }
    this.flush();
  }

  private flush(): void {
    this.ready = true;
    const queued = this.queue;
    this.queue = [];
    for (const line of queued) this.options.send(line);
  }

  private writeToChild(msg: Message): void {
    const line = JSON.stringify(msg);
    // Decides which child serves 2025-era traffic; a second one takes a moment to start and what
    // arrives meanwhile waits in the queue.
    this.options.route();
    if (this.ready) {
      this.options.send(line);
      return;
    }
    if (this.queue.length >= MAX_QUEUED) throw new Error('too many messages queued for a restarting MCP server');
    this.queue.push(line);
  }

  private settle(childId: number, pending: Pending): void {
    this.pending.delete(childId);
    pending.session.inflight.delete(idKey(pending.originalId));
    if (pending.progressToken !== undefined) this.progress.delete(pending.progressToken);
    if (this.lastRequest === childId) this.lastRequest = undefined;
  }

  /** Forgets requests nobody can receive the answer to any more, and tells the child to stop them. */
  private cancel(childIds: Iterable<number>, reason: string): void {
    for (const childId of childIds) {
      const pending = this.pending.get(childId);
      if (!pending) continue;
      this.settle(childId, pending);
      if (this.ready) this.options.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: childId, reason } }));
    }
  }

  private fromChildNotification(msg: Message): void {
    if (msg.method === 'notifications/progress' && msg.params) {
      const token = msg.params.progressToken;
      const entry = typeof token === 'number' ? this.progress.get(token) : undefined;
      const pending = entry && this.pending.get(entry.childId);
      if (!entry || !pending) return;
      msg.params = { ...msg.params, progressToken: entry.original };
      this.deliver(pending.session, msg, pending.reply, false);
      return;
    }
    const line = JSON.stringify(msg);
    for (const session of this.sessions.values()) if (session.stream) writeEvent(session.stream, line);
  }

  private fromChildRequest(msg: Message): void {
    const childId = msg.id as JsonRpcId;
    const pending = this.lastRequest === undefined ? undefined : this.pending.get(this.lastRequest);
    const session = pending?.session ?? this.sessions.withStream();
    if (!session) {
      this.writeToChild({ jsonrpc: '2.0', id: childId, error: { code: -32603, message: 'no client is connected to answer this request' } });
      return;
    }
    const outId = this.nextServerRequest++;
    session.serverRequests.set(idKey(outId), childId);
    msg.id = outId;
    if (!this.deliver(session, msg, pending?.reply, false)) {
      session.serverRequests.delete(idKey(outId));
      this.writeToChild({ jsonrpc: '2.0', id: childId, error: { code: -32603, message: 'the client has no open stream for server requests' } });
    }
  }

  /** Sends a message to a client: on the POST it belongs to when possible, else on the session's stream. */
  private deliver(session: Session, msg: Message, reply: PostReply | undefined, isResponse: boolean): boolean {
    if (reply?.isOpen) {
      if (isResponse) {
        reply.response(msg);
        return true;
      }
      if (reply.intermediate(msg)) return true;
    }
    if (session.stream) {
      writeEvent(session.stream, JSON.stringify(msg));
      return true;
    }
    return false;
  }

  // ---- client side ------------------------------------------------------------------------------

  private tooManyInflight(res: ServerResponse, messages: Message[]): boolean {
    const requests = messages.filter(isRequest).length;
    if (requests === 0 || this.pending.size + requests <= this.options.limits.maxInflight) return false;
    sendJson(res, 503, rpcError(-32000, `Too many requests in flight (limit ${this.options.limits.maxInflight}); retry later`), { 'retry-after': '1' });
    return true;
  }

  /** `POST /mcp` of a 2025-era client: an `initialize` opens a session, anything else needs one. */
  post(req: IncomingMessage, res: ServerResponse, messages: Message[], isBatch: boolean): void {
    let session: Session | undefined;
    if (messages.some((m) => m.method === 'initialize')) {
      if (isBatch) {
        sendJson(res, 400, rpcError(-32600, 'Invalid Request: initialize must not be part of a batch'));
        return;
      }
      session = this.sessions.create(false);
      if (!session) {
        sendJson(res, 503, rpcError(-32000, `Too many open sessions (limit ${this.options.limits.maxSessions}); close one or retry later`), { 'retry-after': '5' });
        return;
      }
    } else {
      session = this.sessions.sessionOf(req, res);
      if (!session) return;
    }
    if (this.tooManyInflight(res, messages)) return;
    const requests = messages.filter(isRequest).length;
    const accept = req.headers.accept ?? '';
    const reply = requests === 0 ? undefined : new PostReply(res, session.id, accept.includes('text/event-stream'), requests, isBatch);
    const sent: number[] = [];
    try {
      for (const msg of messages) {
        const childId = this.fromClient(session, msg, reply);
        if (childId !== undefined) sent.push(childId);
      }
    } catch (err) {
      sendJson(res, 503, rpcError(-32000, (err as Error).message), { 'retry-after': '1' });
      return;
    }
    if (!reply) {
      res.writeHead(202, { [SESSION_HEADER]: session.id });
      res.end();
      return;
    }
    const owner = session;
    // A client that went away gets nothing more; without a stream to answer on, the child is told to stop.
    res.on('close', () => {
      if (!owner.stream || !this.sessions.has(owner.id)) this.cancel(sent, 'the client closed the connection');
    });
  }

  /** `POST /messages?sessionId=…` of a legacy SSE session: answers go to its event stream. */
  ssePost(session: Session, res: ServerResponse, messages: Message[]): void {
    if (this.tooManyInflight(res, messages)) return;
    try {
      for (const msg of messages) this.fromClient(session, msg, undefined);
    } catch (err) {
      sendJson(res, 503, rpcError(-32000, (err as Error).message), { 'retry-after': '1' });
      return;
    }
    res.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted');
  }

  /** Returns the child's id of a forwarded request. */
  private fromClient(session: Session, msg: Message, reply: PostReply | undefined): number | undefined {
    if (isRequest(msg)) {
      if (msg.method === 'initialize' && !this.initParams && msg.params) this.initParams = msg.params;
      const childId = this.nextId++;
      const pending: Pending = { session, originalId: msg.id as JsonRpcId, reply, progressToken: undefined };
      const meta = msg.params?._meta as Record<string, unknown> | undefined;
      if (meta && meta.progressToken !== undefined) {
        const token = this.nextToken++;
        this.progress.set(token, { childId, original: meta.progressToken });
        pending.progressToken = token;
        msg.params = { ...msg.params, _meta: { ...meta, progressToken: token } };
      }
      this.pending.set(childId, pending);
      session.inflight.set(idKey(pending.originalId), childId);
      this.lastRequest = childId;
      msg.id = childId;
      this.writeToChild(msg);
      return childId;
    }
    if (typeof msg.method === 'string') {
      if (msg.method === 'notifications/cancelled' && msg.params && msg.params.requestId !== undefined) {
        const childId = session.inflight.get(idKey(msg.params.requestId as JsonRpcId));
        if (childId === undefined) return undefined;
        msg.params = { ...msg.params, requestId: childId };
        const pending = this.pending.get(childId);
        if (pending) this.settle(childId, pending);
      }
      this.writeToChild(msg);
      return undefined;
    }
    // A response to a server→client request.
    if (msg.id === undefined || msg.id === null) return undefined;
    const key = idKey(msg.id);
    const childId = session.serverRequests.get(key);
    if (childId === undefined) return undefined;
    session.serverRequests.delete(key);
    msg.id = childId;
    this.writeToChild(msg);
    return undefined;
  }
}
