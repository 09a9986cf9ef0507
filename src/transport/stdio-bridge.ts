import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/log.js';
import { LineSplitter } from './line-splitter.js';
import { systemClock, type Clock } from '../core/clock.js';
import { openEventStream, writeEvent } from './sse.js';
import { readBody, BodyTooLargeError, BodyGate } from './body.js';
import { classify, standardHeaderMismatch, MODERN_VERSION, PROTOCOL_VERSION_META, UNSUPPORTED_PROTOCOL_VERSION, HEADER_MISMATCH } from './mcp-era.js';
import { ModernChannel, sendJson as sendJsonSafe } from './modern-channel.js';

type JsonRpcId = string | number;
type Message = { jsonrpc: '2.0'; id?: JsonRpcId | null; method?: string; params?: Record<string, unknown>; [k: string]: unknown };

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
  limits?: Partial<BridgeLimits>;
  /**
   * Starts a second copy of the server for 2025-era sessions when the first one serves 2026-07-28
   * (a dual-era server pins one era per stdio connection; docs/workloads.md#protocol-eras). Without
   * it, legacy traffic goes to the one child, which answers as it does.
   */
  spawnLegacyChild?: (hooks: EraChildHooks) => EraChild;
  /** How long the `server/discover` probe may take before the child is taken as legacy-only. */
  probeTimeoutMs?: number;
}

export interface EraChildHooks {
  onStdout: (chunk: string) => void;
  onStarted: () => void;
  onExited: (reason: string) => void;
}

export interface EraChild {
  send: (line: string) => void;
  stop: () => Promise<void>;
}

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
const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

/** What the first child speaks, learnt from the `server/discover` probe. */
type ChildEra = { modern: false } | { modern: true; versions: string[] };

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
  private readonly primaryLines: LineSplitter;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly limits: BridgeLimits;
  private readonly bodies: BodyGate;
  private readonly modern: ModernChannel;

  /** What the server speaks, learnt from the first child's answer to `server/discover` (it may come late). */
  private era: ChildEra | undefined;
  /** Resolves once the probe answered or its time ran out; only 2026-07-28 requests wait for it. */
  private readonly eraKnown: Promise<void>;
  private resolveEra!: () => void;
  private probeId: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /**
   * The era the first child serves: whichever real request reaches it first (a dual-era server pins
   * one era per stdio connection); the other era gets the second child (docs/workloads.md#protocol-eras).
   */
  private primaryEra: 'legacy' | 'modern' | undefined;
  private primaryUp = false;
  private second: EraChild | undefined;
  private secondUp = false;
  /** Modern lines waiting for their child to (re)start. */
  private modernQueue: string[] = [];
  private readonly secondLines: LineSplitter;

  constructor(private readonly options: StdioBridgeOptions) {
    this.clock = options.clock ?? systemClock;
    this.limits = { ...DEFAULT_BRIDGE_LIMITS, ...options.limits };
    this.bodies = new BodyGate(this.limits.maxConcurrentBodies);
    this.eraKnown = new Promise((resolve) => (this.resolveEra = resolve));
    const tooLong = (limit: number) => this.options.log.warn({ limitBytes: limit }, 'dropped a line on the MCP server stdout that is longer than the limit');
    this.primaryLines = new LineSplitter((line) => this.primaryLine(line), tooLong, options.maxLineBytes);
    this.secondLines = new LineSplitter(
      (line) => {
        const msg = parseLine(line, this.options.log);
        if (!msg) return;
        if (this.primaryEra === 'legacy') this.modern.receive(msg as never);
        else this.legacyMessage(msg);
      },
      tooLong,
      options.maxLineBytes,
    );
    this.modern = new ModernChannel({ send: (line) => this.sendModern(line), log: options.log, maxInflight: this.limits.maxInflight });
  }

  /**
   * Forgets sessions idle for longer than `sessionIdleMs` that have no open stream; what they still
   * had in flight is cancelled towards the child. Called periodically by the supervisor.
   */
  sweepIdleSessions(): number {
    const limit = this.clock.now() - (this.options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
    let removed = 0;
    for (const session of this.sessions.values()) {
      if (session.stream || session.lastSeen > limit) continue;
      this.dropSession(session);
      removed++;
    }
    return removed;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** What the bridge holds in memory per era, for tests and `/health`. */
  get stats(): { sessions: number; legacyInflight: number; legacyProgress: number; modernInflight: number; modernProgress: number; bodiesReading: number; openStreams: number } {
    let openStreams = 0;
    for (const session of this.sessions.values()) if (session.stream) openStreams++;
    return {
      sessions: this.sessions.size,
      openStreams,
      legacyInflight: this.pending.size,
      legacyProgress: this.progress.size,
      modernInflight: this.modern.inflight,
      modernProgress: this.modern.trackedProgressTokens,
      bodiesReading: this.bodies.inUse,
    };
  }

  /** What the server speaks once probed: 'modern' (it answered server/discover) or 'legacy'. */
  get childEra(): 'modern' | 'legacy' | undefined {
    return this.era === undefined ? undefined : this.era.modern ? 'modern' : 'legacy';
  }

  /** How many copies of the server run: 2 once both eras have been used with a dual-era server. */
  get children(): number {
    return this.second ? 2 : 1;
  }

  // ---- child side -------------------------------------------------------------------------------

  /** Feeds raw stdout bytes of the (first) child; complete lines are handled, partial ones kept. */
  receiveStdout(chunk: string): void {
    this.primaryLines.push(chunk);
  }

  /** One complete line of the first child's stdout. */
  receiveLine(line: string): void {
    this.primaryLine(line);
  }

  private primaryLine(line: string): void {
    const msg = parseLine(line, this.options.log);
    if (!msg) return;
    if (this.probeId !== undefined && msg.id === this.probeId && msg.method === undefined) {
      this.probeAnswered(msg);
      return;
    }
    if (this.primaryEra === 'modern') this.modern.receive(msg as never);
    else this.legacyMessage(msg);
  }

  private legacyMessage(msg: Message): void {
    if (typeof msg.method === 'string') {
      if (msg.id !== undefined && msg.id !== null) this.fromChildRequest(msg);
      else this.fromChildNotification(msg);
      return;
    }
    if (msg.id === this.replayId && this.replayId !== undefined) {
      this.replayId = undefined;
      this.sendLegacy(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
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

  /** The (first) child is gone: answer everything in flight with an error, and hold new traffic until it is back. */
  childExited(reason: string): void {
    this.primaryUp = false;
    this.primaryLines.reset();
    if (this.probeId !== undefined && this.era === undefined) {
      // Gone before it answered: probed again when it is back.
      clearTimeout(this.probeTimer);
      this.probeId = undefined;
    }
    if (this.primaryEra === 'modern') this.modernExited(reason);
    else this.legacyExited(reason);
  }

  /** Queued lines belong to requests answered here; a new child must not see them. */
  private modernExited(reason: string): void {
    this.modernQueue = [];
    this.modern.childExited(reason);
  }

  /** A (re)started child is ready for input: probed once for its era, then served. */
  childStarted(): void {
    this.primaryUp = true;
    if (this.era === undefined && this.probeId === undefined) this.probe();
    if (this.primaryEra === 'modern') this.flushModern();
    else this.legacyStarted();
  }

  /**
   * The stdio backward-compatibility probe of the 2026-07-28 revision: `server/discover` with the
   * modern `_meta` first; a DiscoverResult or a modern error means the server speaks 2026-07-28, any
   * other answer (or none in time) that it is a 2025-era server. A dual-era SDK server does not pin
   * its connection on the probe, so the first real request still decides the child's era. Only
   * 2026-07-28 requests wait for the answer; a late answer still counts.
   */
  private probe(): void {
    this.probeId = `thv-probe-${randomUUID()}`;
    this.probeTimer = setTimeout(() => {
      this.options.log.warn('the MCP server did not answer server/discover in time; serving it as a 2025-era server until it does');
      this.resolveEra();
    }, this.options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
    this.probeTimer.unref?.();
    this.options.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: this.probeId,
        method: 'server/discover',
        params: { _meta: { [PROTOCOL_VERSION_META]: MODERN_VERSION, 'io.modelcontextprotocol/clientInfo': { name: 'thv', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } },
      }),
    );
  }

  private probeAnswered(msg: Message): void {
    clearTimeout(this.probeTimer);
    this.probeId = undefined;
    const result = msg.result as { supportedVersions?: unknown } | undefined;
    const error = msg.error as { code?: number; data?: { supported?: unknown } } | undefined;
    const strings = (list: unknown[]) => list.filter((v): v is string => typeof v === 'string');
    if (result && Array.isArray(result.supportedVersions)) this.era = { modern: true, versions: strings(result.supportedVersions) };
    else if (error?.code === UNSUPPORTED_PROTOCOL_VERSION && Array.isArray(error.data?.supported)) this.era = { modern: true, versions: strings(error.data.supported) };
    else this.era = { modern: false };
    this.options.log.info({ era: this.childEra, ...(this.era.modern ? { versions: this.era.versions } : {}) }, 'probed the MCP server for its protocol era');
    this.resolveEra();
  }

  // ---- which child serves which era --------------------------------------------------------------

  /** The child for `era`: the first one unless it already serves the other era. */
  private childFor(era: 'legacy' | 'modern'): 'primary' | 'second' {
    if (this.primaryEra === undefined) this.primaryEra = era;
    if (this.primaryEra === era) return 'primary';
    this.ensureSecond(era);
    return 'second';
  }

  private targetUp(which: 'primary' | 'second'): boolean {
    return which === 'primary' ? this.primaryUp : this.secondUp;
  }

  private sendTo(which: 'primary' | 'second', line: string): void {
    if (which === 'primary') this.options.send(line);
    else this.second?.send(line);
  }

  private sendModern(line: string): void {
    const which = this.childFor('modern');
    if (!this.targetUp(which)) {
      if (this.modernQueue.length >= MAX_QUEUED) throw new Error('too many messages queued for a starting MCP server');
      this.modernQueue.push(line);
      return;
    }
    this.sendTo(which, line);
  }

  private flushModern(): void {
    const queued = this.modernQueue;
    this.modernQueue = [];
    for (const line of queued) this.sendModern(line);
  }

  private ensureSecond(era: 'legacy' | 'modern'): void {
    if (this.second) return;
    if (!this.options.spawnLegacyChild) {
      // No second child available: the one child gets the traffic and answers as it does.
      this.second = { send: (line) => this.options.send(line), stop: async () => undefined };
      this.secondUp = this.primaryUp;
      return;
    }
    if (era === 'legacy') this.ready = false;
    this.options.log.info({ era }, 'starting a second copy of the MCP server for the other protocol era');
    this.second = this.options.spawnLegacyChild({
      onStdout: (chunk) => this.secondLines.push(chunk),
      onStarted: () => {
        this.secondUp = true;
        if (era === 'legacy') this.legacyStarted();
        else this.flushModern();
      },
      onExited: (reason) => {
        this.secondUp = false;
        this.secondLines.reset();
        if (era === 'legacy') this.legacyExited(reason);
        else this.modernExited(reason);
      },
    });
  }

  // ---- the 2025-era child (the first child, or the second one when the first is modern) ----------

  private sendLegacy(line: string): void {
    this.sendTo(this.childFor('legacy'), line);
  }

  private legacyExited(reason: string): void {
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

  /** The legacy child is ready: replays the first initialize so existing sessions keep working. */
  private legacyStarted(): void {
    if (this.initParams) {
      this.replayId = `thv-replay-${randomUUID()}`;
      this.sendLegacy(JSON.stringify({ jsonrpc: '2.0', id: this.replayId, method: 'initialize', params: this.initParams }));
      return;
    }
    this.flush();
  }

  private flush(): void {
    this.ready = true;
    const queued = this.queue;
    this.queue = [];
    for (const line of queued) this.sendLegacy(line);
  }

  private writeToChild(msg: Message): void {
    const line = JSON.stringify(msg);
    // Decides which child serves 2025-era traffic; a second one takes a moment to start and what
    // arrives meanwhile waits in the queue.
    this.childFor('legacy');
    if (this.ready) {
      this.sendLegacy(line);
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
      if (this.ready) this.sendLegacy(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: childId, reason } }));
    }
  }

  /**
   * At the session cap, the session unused for longest that has no open stream makes room (clients
   * that never DELETE would otherwise lock everyone out until the sweep); false when every session
   * holds a stream.
   */
  private evictIdleSession(): boolean {
    let oldest: Session | undefined;
    for (const session of this.sessions.values()) {
      if (session.stream) continue;
      if (!oldest || session.lastSeen < oldest.lastSeen) oldest = session;
    }
    if (!oldest) return false;
    this.dropSession(oldest);
    return true;
  }

  private dropSession(session: Session): void {
    this.sessions.delete(session.id);
    clearInterval(session.keepalive);
    this.cancel([...session.inflight.values()], 'the session ended');
    session.serverRequests.clear();
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
      else if (req.method === 'GET' || req.method === 'DELETE') {
        // The 2026-07-28 endpoint is POST-only; a 2025-era client sends no modern version header.
        if (isModernHeader(req)) sendJson(res, 405, rpcError(-32000, 'Method not allowed.'), { allow: 'POST' });
        else if (req.method === 'GET') this.getStream(req, res);
        else this.deleteSession(req, res);
      } else sendJson(res, 405, rpcError(-32000, 'Method not allowed'), { allow: 'GET, POST, DELETE' });
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
      const { sessions, legacyInflight, modernInflight } = this.stats;
      sendJson(res, 200, { status: this.ready ? 'ok' : 'restarting', ...(this.childEra ? { era: this.childEra } : {}), sessions, inflight: legacyInflight + modernInflight, children: this.children });
      return true;
    }
    return false;
  }

  private newSession(legacy: boolean): Session | undefined {
    if (this.sessions.size >= this.limits.maxSessions && !this.evictIdleSession()) return undefined;
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

  /** Reads and parses a JSON body within the size and concurrency limits; undefined once answered. */
  private async readJson(req: IncomingMessage, res: ServerResponse): Promise<{ parsed: unknown } | undefined> {
    if (mediaType(req.headers['content-type']) !== 'application/json') {
      sendJson(res, 415, rpcError(-32000, 'Unsupported Media Type: Content-Type must be application/json'));
      return undefined;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.limits.maxBodyBytes) {
      sendJson(res, 413, rpcError(-32000, 'Request body too large'), { connection: 'close' });
      return undefined;
    }
    const release = this.bodies.enter();
    if (!release) {
      sendJson(res, 503, rpcError(-32000, 'Too many requests being received at once; retry later'), { 'retry-after': '1', connection: 'close' });
      return undefined;
    }
    let body: string;
    try {
      body = await readBody(req, this.limits.maxBodyBytes);
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

  private async readMessages(req: IncomingMessage, res: ServerResponse): Promise<{ messages: Message[]; isBatch: boolean } | undefined> {
    const input = await this.readJson(req, res);
    if (!input) return undefined;
    return this.toMessages(input.parsed, res);
  }

  private toMessages(parsed: unknown, res: ServerResponse): { messages: Message[]; isBatch: boolean } | undefined {
    const isBatch = Array.isArray(parsed);
    const messages = (isBatch ? parsed : [parsed]) as Message[];
    if (messages.length === 0 || !messages.every((m) => typeof m === 'object' && m !== null && m.jsonrpc === '2.0')) {
      sendJson(res, 400, rpcError(-32600, 'Invalid Request'));
      return undefined;
    }
    return { messages, isBatch };
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await this.readJson(req, res);
    if (!input) return;
    const era = classify('POST', req.headers, input.parsed);
    if (era.kind === 'reject') {
      const id = (input.parsed as { id?: unknown } | null)?.id;
      sendJson(res, era.status, { jsonrpc: '2.0', id: typeof id === 'string' || typeof id === 'number' ? id : null, error: { code: era.code, message: era.message, ...(era.data !== undefined ? { data: era.data } : {}) } });
      return;
    }
    if (era.kind === 'modern') {
      await this.eraKnown;
      this.postModern(req, res, input.parsed as Message, era.revision, era.isRequest);
      return;
    }
    const messages = this.toMessages(input.parsed, res);
    if (messages) this.postLegacy(req, res, messages.messages, messages.isBatch);
  }

  private postModern(req: IncomingMessage, res: ServerResponse, msg: Message, revision: string | undefined, isRequest: boolean): void {
    const id = isRequest ? (msg.id as JsonRpcId) : null;
    if (!this.era?.modern) {
      // A 2025-era server: answer as one would (no modern error), so dual-era clients fall back to
      // initialize and modern-only clients report that the server is too old.
      sendJson(res, 400, { jsonrpc: '2.0', id, error: { code: -32000, message: `Bad Request: this MCP server does not support protocol version ${revision ?? MODERN_VERSION}; it needs the initialize handshake (2025-era clients)` } });
      return;
    }
    if (revision === undefined || !this.era.versions.includes(revision)) {
      sendJson(res, 400, { jsonrpc: '2.0', id, error: { code: UNSUPPORTED_PROTOCOL_VERSION, message: `Unsupported protocol version: ${revision ?? 'unknown'}`, data: { supported: this.era.versions, requested: revision ?? 'unknown' } } });
      return;
    }
    if (isRequest) {
      const mismatch = standardHeaderMismatch(req.headers, msg);
      if (mismatch) {
        sendJson(res, 400, { jsonrpc: '2.0', id, error: { code: HEADER_MISMATCH, message: mismatch } });
        return;
      }
      try {
        this.modern.request(msg as never, res, (req.headers.accept ?? '').includes('text/event-stream'));
      } catch (err) {
        sendJson(res, 503, { jsonrpc: '2.0', id, error: { code: -32000, message: (err as Error).message } }, { 'retry-after': '1' });
      }
      return;
    }
    try {
      this.modern.notify(msg as never);
    } catch {
      // A notification for a server that is not there is dropped, as the child would never see it.
    }
    res.writeHead(202).end();
  }

  private postLegacy(req: IncomingMessage, res: ServerResponse, messages: Message[], isBatch: boolean): void {
    let session: Session | undefined;
    if (messages.some((m) => m.method === 'initialize')) {
      if (isBatch) {
        sendJson(res, 400, rpcError(-32600, 'Invalid Request: initialize must not be part of a batch'));
        return;
      }
      session = this.newSession(false);
      if (!session) {
        sendJson(res, 503, rpcError(-32000, `Too many open sessions (limit ${this.limits.maxSessions}); close one or retry later`), { 'retry-after': '5' });
        return;
      }
    } else {
      session = this.sessionOf(req, res);
      if (!session) return;
    }
    const requests = messages.filter(isRequest).length;
    if (requests > 0 && this.pending.size + requests > this.limits.maxInflight) {
      sendJson(res, 503, rpcError(-32000, `Too many requests in flight (limit ${this.limits.maxInflight}); retry later`), { 'retry-after': '1' });
      return;
    }
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
      session.lastSeen = this.clock.now();
      if (session.legacy) this.dropSession(session);
    });
  }

  private deleteSession(req: IncomingMessage, res: ServerResponse): void {
    const session = this.sessionOf(req, res);
    if (!session) return;
    this.dropSession(session);
    session.stream?.end();
    res.writeHead(200).end();
  }

  private openLegacy(res: ServerResponse): void {
    const session = this.newSession(true);
    if (!session) {
      sendJson(res, 503, rpcError(-32000, `Too many open sessions (limit ${this.limits.maxSessions}); retry later`), { 'retry-after': '5' });
      return;
    }
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
    const requests = input.messages.filter(isRequest).length;
    if (requests > 0 && this.pending.size + requests > this.limits.maxInflight) {
      sendJson(res, 503, rpcError(-32000, `Too many requests in flight (limit ${this.limits.maxInflight}); retry later`), { 'retry-after': '1' });
      return;
    }
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
    this.modern.closeAll();
    clearTimeout(this.probeTimer);
    this.resolveEra();
  }

  /** Stops the second child, if one was started for 2025-era sessions. */
  async stopLegacyChild(): Promise<void> {
    await this.second?.stop();
  }
}

function parseLine(line: string, log: Logger): Message | undefined {
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

function isModernHeader(req: IncomingMessage): boolean {
  const v = req.headers['mcp-protocol-version'];
  const value = (Array.isArray(v) ? v[0] : v)?.trim();
  return value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(value) && value >= MODERN_VERSION;
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
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
  sendJsonSafe(res, status, value, headers);
}
