import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { openEventStream, writeEvent } from './sse.js';
import { KEEPALIVE_MS, SESSION_HEADER, rpcError, sendJson, type JsonRpcId } from './bridge-common.js';

export interface Session {
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

export interface SessionTableOptions {
  clock: Pick<Clock, 'now'>;
  maxSessions: number;
  idleMs: number;
  /** A session is being forgotten: what it has in flight must be cancelled. */
  onDrop: (session: Session) => void;
}

/**
 * The 2025-era sessions of the bridge (streamable HTTP `Mcp-Session-Id` and legacy SSE): created on
 * `initialize` or `GET /sse`, capped, swept when idle, and their GET/SSE streams.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: SessionTableOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  get openStreams(): number {
    let open = 0;
    for (const session of this.sessions.values()) if (session.stream) open++;
    return open;
  }

  /** Entries the sessions hold for requests (client ids in flight, server→client requests awaiting an answer). */
  get entries(): number {
    let n = 0;
    for (const session of this.sessions.values()) n += session.inflight.size + session.serverRequests.size;
    return n;
  }

  values(): IterableIterator<Session> {
    return this.sessions.values();
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  /** The first session with an open stream (for a server→client request nobody's POST can carry). */
  withStream(): Session | undefined {
    for (const session of this.sessions.values()) if (session.stream) return session;
    return undefined;
  }

  /** A new session, or undefined at the cap when every session holds a stream. */
  create(legacy: boolean): Session | undefined {
    if (this.sessions.size >= this.options.maxSessions && !this.evictIdle()) return undefined;
    const session: Session = {
      id: randomUUID(),
      legacy,
      stream: undefined,
      keepalive: undefined,
      inflight: new Map(),
      serverRequests: new Map(),
      lastSeen: this.options.clock.now(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The streamable-HTTP session a request names; answered with 400/404 (and undefined) otherwise. */
  sessionOf(req: IncomingMessage, res: ServerResponse): Session | undefined {
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
    session.lastSeen = this.options.clock.now();
    return session;
  }

  /**
   * Forgets sessions idle for longer than `idleMs` that have no open stream; what they still had in
   * flight is cancelled towards the child.
   */
  sweep(): number {
    const limit = this.options.clock.now() - this.options.idleMs;
    let removed = 0;
    for (const session of this.sessions.values()) {
      if (session.stream || session.lastSeen > limit) continue;
      this.drop(session);
      removed++;
    }
    return removed;
  }

  /**
   * At the session cap, the session unused for longest that has no open stream makes room (clients
   * that never DELETE would otherwise lock everyone out until the sweep); false when every session
   * holds a stream.
   */
  private evictIdle(): boolean {
    let oldest: Session | undefined;
    for (const session of this.sessions.values()) {
      if (session.stream) continue;
      if (!oldest || session.lastSeen < oldest.lastSeen) oldest = session;
    }
    if (!oldest) return false;
    this.drop(oldest);
    return true;
  }

  drop(session: Session): void {
    this.sessions.delete(session.id);
    clearInterval(session.keepalive);
    this.options.onDrop(session);
    session.serverRequests.clear();
  }

  /** `GET /mcp`: the session's stream for messages not tied to a POST. */
  getStream(req: IncomingMessage, res: ServerResponse): void {
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
      session.lastSeen = this.options.clock.now();
      if (session.legacy) this.drop(session);
    });
  }

  /** `DELETE /mcp`: ends the session. */
  delete(req: IncomingMessage, res: ServerResponse): void {
    const session = this.sessionOf(req, res);
    if (!session) return;
    this.drop(session);
    session.stream?.end();
    res.writeHead(200).end();
  }

  /** `GET /sse`: a legacy SSE session, whose first event names its POST endpoint. */
  openLegacy(res: ServerResponse): void {
    const session = this.create(true);
    if (!session) {
      sendJson(res, 503, rpcError(-32000, `Too many open sessions (limit ${this.options.maxSessions}); retry later`), { 'retry-after': '5' });
      return;
    }
    this.attachStream(session, res);
    writeEvent(res, `/messages?sessionId=${session.id}`, 'endpoint');
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
