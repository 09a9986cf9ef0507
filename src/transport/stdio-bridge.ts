import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/log.js';
import { LineSplitter } from './line-splitter.js';
import { systemClock, type Clock } from '../core/clock.js';
import { openEventStream, writeEvent } from './sse.js';
import { readBody, BodyTooLargeError } from './body.js';

type JsonRpcId = string | number;
type Message = { jsonrpc: '2.0'; id?: JsonRpcId | null; method?: string; params?: Record<string, unknown>; [k: string]: unknown };

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_QUEUED = 10_000;
const KEEPALIVE_MS = 25_000;
const SESSION_HEADER = 'mcp-session-id';

/** The reply to one POST: JSON by default, switched to SSE when something must be streamed before the answer. */
class PostReply {
  private readonly responses: Message[] = [];
  private streaming = false;
  private done = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly sessionId: string,
    private readonly canStream: boolean,
    private readonly expected: number,
    private readonly isBatch: boolean,
  ) {
    res.on('close', () => {
      this.done = true;
    });
  }

  get isOpen(): boolean {
    return !this.done;
  }

  /** A message sent before the answer (progress, a server→client request). False when it cannot go here. */
  intermediate(msg: Message): boolean {
    if (this.done || !this.canStream || this.isBatch) return false;
    if (!this.streaming) {
      this.streaming = true;
      openEventStream(this.res, { [SESSION_HEADER]: this.sessionId });
    }
    writeEvent(this.res, JSON.stringify(msg));
    return true;
  }

  response(msg: Message): void {
    if (this.done) return;
    if (this.streaming) {
      writeEvent(this.res, JSON.stringify(msg));
      this.done = true;
      this.res.end();
      return;
    }
    this.responses.push(msg);
    if (this.responses.length < this.expected) return;
    this.done = true;
    const body = JSON.stringify(this.isBatch ? this.responses : this.responses[0]);
    this.res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [SESSION_HEADER]: this.sessionId,
    });
    this.res.end(body);
  }
}

interface Session {
  id: string;
  legacy: boolean;
  /** The GET stream (streamable HTTP) or the event stream (legacy SSE) for messages not tied to a POST. */
  stream: ServerResponse | undefined;
  keepalive: NodeJS.Timeout | undefined;
  /** Client request id (as a key) → the id it has towards the child. */
  inflight: Map<string, number>;
  /** Id of a server→client request as the client sees it → the child's own id. */
  serverRequests: Map<string, JsonRpcId>;
  lastSeen: number;
}

interface Pending {
  session: Session;
  originalId: JsonRpcId;
  reply: PostReply | undefined;
  progressToken: number | undefined;
}

export interface StdioBridgeOptions {
  /** Writes one JSON-RPC message (no trailing newline) to the child's stdin. */
  send: (line: string) => void;
  log: Logger;
  clock?: Pick<Clock, 'now'>;
  /** A session with no stream and nothing in flight is forgotten after this long (clients that never DELETE). */
  sessionIdleMs?: number;
  /** Longer stdout lines are logged and dropped (default 16 MiB). */
  maxLineBytes?: number;
}

export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

/**
 * Serves one stdio MCP server to many HTTP clients: streamable HTTP on `/mcp` and legacy SSE on
 * `/sse` + `/messages`. Request ids and progress tokens are remapped per session so clients never
 * collide, and the first `initialize` is replayed to a restarted child so sessions survive a crash.
 */
export class StdioBridge {
  private readonly sessions = new Map<string, Session>();
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
  private readonly stdout: LineSplitter;

  private readonly clock: Pick<Clock, 'now'>;

  constructor(private readonly options: StdioBridgeOptions) {
    this.clock = options.clock ?? systemClock;
    this.stdout = new LineSplitter(
      (line) => {
        const trimmed = line.trim();
        if (trimmed) this.receiveLine(trimmed);
      },
      (limit) => this.options.log.warn({ limitBytes: limit }, 'dropped a line on the MCP server stdout that is longer than the limit'),
      options.maxLineBytes,
    );
  }

  /** Forgets sessions idle for longer than `sessionIdleMs`; called periodically by the supervisor. */
  sweepIdleSessions(): number {
    const limit = this.clock.now() - (this.options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
    let removed = 0;
    for (const session of this.sessions.values()) {
      if (session.stream || session.inflight.size > 0 || session.lastSeen > limit) continue;
      this.sessions.delete(session.id);
      removed++;
    }
    return removed;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  // ---- child side -------------------------------------------------------------------------------

  /** Feeds raw stdout bytes of the child; complete lines are handled, partial ones kept. */
  receiveStdout(chunk: string): void {
    this.stdout.push(chunk);
  }

  receiveLine(line: string): void {
    let msg: Message;
    try {
      msg = JSON.parse(line) as Message;
    } catch {
      // Servers that print banners on stdout break the protocol; keep the text in the log.
      this.options.log.warn({ line: line.slice(0, 200) }, 'ignored a non-JSON line on the MCP server stdout');
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    if (typeof msg.method === 'string') {
      if (msg.id !== undefined && msg.id !== null) this.fromChildRequest(msg);
      else this.fromChildNotification(msg);
      return;
    }
    if (msg.id === this.replayId && this.replayId !== undefined) {
      this.replayId = undefined;
      this.writeToChild({ jsonrpc: '2.0', method: 'notifications/initialized' }, true);
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

  /** The child is gone: answer everything in flight with an error, and hold new traffic until it is back. */
  childExited(reason: string): void {
    this.ready = false;
    this.replayId = undefined;
    this.stdout.reset();
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

  /** A (re)started child is ready for input; replays the session's initialize so existing sessions keep working. */
  childStarted(): void {
    if (this.initParams) {
      this.replayId = `thv-replay-${randomUUID()}`;
      this.writeToChild({ jsonrpc: '2.0', id: this.replayId, method: 'initialize', params: this.initParams }, true);
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

  private writeToChild(msg: Message, bypassQueue = false): void {
    const line = JSON.stringify(msg);
    if (this.ready || bypassQueue) {
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
    const session = pending?.session ?? [...this.sessions.values()].find((s) => s.stream);
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

  /** Handles `/mcp`, `/sse`, `/messages` and `/health`; answers false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/mcp') {
      if (req.method === 'POST') await this.post(req, res);
      else if (req.method === 'GET') this.getStream(req, res);
      else if (req.method === 'DELETE') this.deleteSession(req, res);
      else sendJson(res, 405, rpcError(-32000, 'Method not allowed'), { allow: 'GET, POST, DELETE' });
      return true;
    }
    if (path === '/sse' && req.method === 'GET') {
      this.openLegacy(res);
      return true;
    }
    if (path === '/messages' && req.method === 'POST') {
      await this.legacyPost(req, res, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)).get('sessionId'));
      return true;
    }
    if (path === '/health' && req.method === 'GET') {
      sendJson(res, 200, { status: this.ready ? 'ok' : 'restarting' });
      return true;
    }
    return false;
  }

  private newSession(legacy: boolean): Session {
    const session: Session = {
      id: randomUUID(),
      legacy,
      stream: undefined,
      keepalive: undefined,
      inflight: new Map(),
      serverRequests: new Map(),
      lastSeen: this.clock.now(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  private sessionOf(req: IncomingMessage, res: ServerResponse): Session | undefined {
    const id = req.headers[SESSION_HEADER];
    if (typeof id !== 'string' || !id) {
      sendJson(res, 400, rpcError(-32000, 'Bad Request: Mcp-Session-Id header is required'));
      return undefined;
    }
    const session = this.sessions.get(id);
    if (!session || session.legacy) {
      sendJson(res, 404, rpcError(-32001, 'Session not found'));
      return undefined;
    }
    session.lastSeen = this.clock.now();
    return session;
  }

  private async readMessages(req: IncomingMessage, res: ServerResponse): Promise<{ messages: Message[]; isBatch: boolean } | undefined> {
    const type = req.headers['content-type'] ?? '';
    if (!type.includes('application/json')) {
      sendJson(res, 415, rpcError(-32000, 'Unsupported Media Type: Content-Type must be application/json'));
      return undefined;
    }
    let body: string;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) sendJson(res, 413, rpcError(-32000, 'Request body too large'));
      else res.destroy();
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      sendJson(res, 400, rpcError(-32700, 'Parse error'));
      return undefined;
    }
    const isBatch = Array.isArray(parsed);
    const messages = (isBatch ? parsed : [parsed]) as Message[];
    if (messages.length === 0 || !messages.every((m) => typeof m === 'object' && m !== null && m.jsonrpc === '2.0')) {
      sendJson(res, 400, rpcError(-32600, 'Invalid Request'));
      return undefined;
    }
    return { messages, isBatch };
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await this.readMessages(req, res);
    if (!input) return;
    const { messages, isBatch } = input;
    let session: Session | undefined;
    if (messages.some((m) => m.method === 'initialize')) {
      if (isBatch) {
        sendJson(res, 400, rpcError(-32600, 'Invalid Request: initialize must not be part of a batch'));
        return;
      }
      session = this.newSession(false);
    } else {
      session = this.sessionOf(req, res);
      if (!session) return;
    }
    const requests = messages.filter(isRequest).length;
    const accept = req.headers.accept ?? '';
    const reply = requests === 0 ? undefined : new PostReply(res, session.id, accept.includes('text/event-stream'), requests, isBatch);
    try {
      for (const msg of messages) this.fromClient(session, msg, reply);
    } catch (err) {
      sendJson(res, 503, rpcError(-32000, (err as Error).message), { 'retry-after': '1' });
      return;
    }
    if (!reply) {
      res.writeHead(202, { [SESSION_HEADER]: session.id });
      res.end();
    }
  }

  private fromClient(session: Session, msg: Message, reply: PostReply | undefined): void {
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
      return;
    }
    if (typeof msg.method === 'string') {
      if (msg.method === 'notifications/cancelled' && msg.params && msg.params.requestId !== undefined) {
        const childId = session.inflight.get(idKey(msg.params.requestId as JsonRpcId));
        if (childId === undefined) return;
        msg.params = { ...msg.params, requestId: childId };
      }
      this.writeToChild(msg);
      return;
    }
    // A response to a server→client request.
    if (msg.id === undefined || msg.id === null) return;
    const key = idKey(msg.id);
    const childId = session.serverRequests.get(key);
    if (childId === undefined) return;
    session.serverRequests.delete(key);
    msg.id = childId;
    this.writeToChild(msg);
  }

  private getStream(req: IncomingMessage, res: ServerResponse): void {
    if (!(req.headers.accept ?? '').includes('text/event-stream')) {
      sendJson(res, 406, rpcError(-32000, 'Not Acceptable: Accept must include text/event-stream'));
      return;
    }
    const session = this.sessionOf(req, res);
    if (!session) return;
    if (session.stream) {
      sendJson(res, 409, rpcError(-32000, 'Conflict: only one GET stream per session'));
      return;
    }
    this.attachStream(session, res);
  }

  private attachStream(session: Session, res: ServerResponse): void {
    openEventStream(res, session.legacy ? {} : { [SESSION_HEADER]: session.id });
    session.stream = res;
    session.keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS).unref();
    res.on('close', () => {
      if (session.stream !== res) return;
      clearInterval(session.keepalive);
      session.stream = undefined;
      if (session.legacy) this.sessions.delete(session.id);
    });
  }

  private deleteSession(req: IncomingMessage, res: ServerResponse): void {
    const session = this.sessionOf(req, res);
    if (!session) return;
    this.sessions.delete(session.id);
    clearInterval(session.keepalive);
    session.stream?.end();
    res.writeHead(200).end();
  }

  private openLegacy(res: ServerResponse): void {
    const session = this.newSession(true);
    this.attachStream(session, res);
    writeEvent(res, `/messages?sessionId=${session.id}`, 'endpoint');
  }

  private async legacyPost(req: IncomingMessage, res: ServerResponse, sessionId: string | null): Promise<void> {
    const session = sessionId ? this.sessions.get(sessionId) : undefined;
    if (!session || !session.legacy) {
      sendJson(res, 404, rpcError(-32001, 'Session not found'));
      return;
    }
    const input = await this.readMessages(req, res);
    if (!input) return;
    try {
      for (const msg of input.messages) this.fromClient(session, msg, undefined);
    } catch (err) {
      sendJson(res, 503, rpcError(-32000, (err as Error).message), { 'retry-after': '1' });
      return;
    }
    res.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted');
  }

  /** Ends every client stream (on stop). */
  closeAll(): void {
    for (const session of this.sessions.values()) {
      clearInterval(session.keepalive);
      session.stream?.end();
    }
    this.sessions.clear();
  }
}

function isRequest(msg: Message): boolean {
  return typeof msg.method === 'string' && msg.id !== undefined && msg.id !== null;
}

function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`;
}

function rpcError(code: number, message: string): unknown {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
