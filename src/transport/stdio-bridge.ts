import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log.js';
import { LineSplitter } from './line-splitter.js';
import { systemClock, type Clock } from '../core/clock.js';
import { BodyGate } from './body.js';
import { classify } from './mcp-era.js';
import { ModernChannel } from './modern-channel.js';
import { LegacyChannel } from './legacy-channel.js';
import { EraProbe } from './era-probe.js';
import {
  DEFAULT_BRIDGE_LIMITS,
  DEFAULT_SESSION_IDLE_MS,
  MAX_QUEUED,
  isModernHeader,
  parseLine,
  readJson,
  rpcError,
  sendJson,
  toMessages,
  type BridgeLimits,
} from './bridge-common.js';

export { DEFAULT_BRIDGE_LIMITS, DEFAULT_SESSION_IDLE_MS, type BridgeLimits } from './bridge-common.js';

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

type Era = 'legacy' | 'modern';

/**
 * Serves one stdio MCP server to many HTTP clients: streamable HTTP on `/mcp` (both protocol eras,
 * each POST classified) and legacy SSE on `/sse` + `/messages`. The 2025 era is served by
 * `LegacyChannel` (sessions), 2026-07-28 by `ModernChannel` (one request per POST); this class
 * routes HTTP requests to them and each era to its child (docs/workloads.md#protocol-eras).
 */
export class StdioBridge {
  private readonly primaryLines: LineSplitter;
  private readonly secondLines: LineSplitter;
  private readonly limits: BridgeLimits;
  private readonly bodies: BodyGate;
  private readonly legacy: LegacyChannel;
  private readonly modern: ModernChannel;
  private readonly probe: EraProbe;
  /**
   * The era the first child serves: whichever real request reaches it first (a dual-era server pins
   * one era per stdio connection); the other era gets the second child (docs/workloads.md#protocol-eras).
   */
  private primaryEra: Era | undefined;
  private primaryUp = false;
  private second: EraChild | undefined;
  private secondUp = false;
  /** Modern lines waiting for their child to (re)start. */
  private modernQueue: string[] = [];

  constructor(private readonly options: StdioBridgeOptions) {
    this.limits = { ...DEFAULT_BRIDGE_LIMITS, ...options.limits };
    this.bodies = new BodyGate(this.limits.maxConcurrentBodies);
    this.probe = new EraProbe({ send: options.send, log: options.log, ...(options.probeTimeoutMs !== undefined ? { timeoutMs: options.probeTimeoutMs } : {}) });
    const tooLong = (limit: number) => this.options.log.warn({ limitBytes: limit }, 'dropped a line on the MCP server stdout that is longer than the limit');
    this.primaryLines = new LineSplitter((line) => this.primaryLine(line), tooLong, options.maxLineBytes);
    this.secondLines = new LineSplitter(
      (line) => {
        const msg = parseLine(line, this.options.log);
        if (!msg) return;
        if (this.primaryEra === 'legacy') this.modern.receive(msg as never);
        else this.legacy.receive(msg);
      },
      tooLong,
      options.maxLineBytes,
    );
    this.legacy = new LegacyChannel({
      send: (line) => this.sendTo(this.childFor('legacy'), line),
      route: () => void this.childFor('legacy'),
      clock: options.clock ?? systemClock,
      limits: this.limits,
      sessionIdleMs: options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS,
    });
    this.modern = new ModernChannel({ send: (line) => this.sendModern(line), log: options.log, maxInflight: this.limits.maxInflight });
  }

  /**
   * Forgets sessions idle for longer than `sessionIdleMs` that have no open stream; what they still
   * had in flight is cancelled towards the child. Called periodically by the supervisor.
   */
  sweepIdleSessions(): number {
    return this.legacy.sessions.sweep();
  }

  get sessionCount(): number {
    return this.legacy.sessions.size;
  }

  /** What the bridge holds in memory per era, for tests and `/health`. */
  get stats(): { sessions: number; sessionEntries: number; legacyInflight: number; legacyProgress: number; modernInflight: number; modernProgress: number; bodiesReading: number; openStreams: number } {
    return {
      sessions: this.legacy.sessions.size,
      openStreams: this.legacy.sessions.openStreams,
      sessionEntries: this.legacy.sessions.entries,
      legacyInflight: this.legacy.inflight,
      legacyProgress: this.legacy.trackedProgressTokens,
      modernInflight: this.modern.inflight,
      modernProgress: this.modern.trackedProgressTokens,
      bodiesReading: this.bodies.inUse,
    };
  }

  /** What the server speaks once probed: 'modern' (it answered server/discover) or 'legacy'. */
  get childEra(): Era | undefined {
    return this.probe.childEra;
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
    if (!msg || this.probe.answers(msg)) return;
    if (this.primaryEra === 'modern') this.modern.receive(msg as never);
    else this.legacy.receive(msg);
  }

  /** The (first) child is gone: answer everything in flight with an error, and hold new traffic until it is back. */
  childExited(reason: string): void {
    this.primaryUp = false;
    this.primaryLines.reset();
    this.probe.childExited();
    if (this.primaryEra === 'modern') this.modernExited(reason);
    else this.legacy.childExited(reason);
  }

  /** Queued lines belong to requests answered here; a new child must not see them. */
  private modernExited(reason: string): void {
    this.modernQueue = [];
    this.modern.childExited(reason);
  }

  /** A (re)started child is ready for input: probed once for its era, then served. */
  childStarted(): void {
    this.primaryUp = true;
    this.probe.start();
    if (this.primaryEra === 'modern') this.flushModern();
    else this.legacy.childStarted();
  }

  // ---- which child serves which era --------------------------------------------------------------

  /** The child for `era`: the first one unless it already serves the other era. */
  private childFor(era: Era): 'primary' | 'second' {
    if (this.primaryEra === undefined) this.primaryEra = era;
    if (this.primaryEra === era) return 'primary';
    this.ensureSecond(era);
    return 'second';
  }

  private sendTo(which: 'primary' | 'second', line: string): void {
    if (which === 'primary') this.options.send(line);
    else this.second?.send(line);
  }

  private sendModern(line: string): void {
    const which = this.childFor('modern');
    if (!(which === 'primary' ? this.primaryUp : this.secondUp)) {
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

  private ensureSecond(era: Era): void {
    if (this.second) return;
    if (!this.options.spawnLegacyChild) {
      // No second child available: the one child gets the traffic and answers as it does.
      this.second = { send: (line) => this.options.send(line), stop: async () => undefined };
      this.secondUp = this.primaryUp;
      return;
    }
    if (era === 'legacy') this.legacy.hold();
    this.options.log.info({ era }, 'starting a second copy of the MCP server for the other protocol era');
    this.second = this.options.spawnLegacyChild({
      onStdout: (chunk) => this.secondLines.push(chunk),
      onStarted: () => {
        this.secondUp = true;
        if (era === 'legacy') this.legacy.childStarted();
        else this.flushModern();
      },
      onExited: (reason) => {
        this.secondUp = false;
        this.secondLines.reset();
        if (era === 'legacy') this.legacy.childExited(reason);
        else this.modernExited(reason);
      },
    });
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
        else if (req.method === 'GET') this.legacy.sessions.getStream(req, res);
        else this.legacy.sessions.delete(req, res);
      } else sendJson(res, 405, rpcError(-32000, 'Method not allowed'), { allow: 'GET, POST, DELETE' });
      return true;
    }
    if (path === '/sse' && req.method === 'GET') {
      this.legacy.sessions.openLegacy(res);
      return true;
    }
    if (path === '/messages' && req.method === 'POST') {
      await this.ssePost(req, res, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)).get('sessionId'));
      return true;
    }
    if (path === '/health' && req.method === 'GET') {
      const { sessions, legacyInflight, modernInflight } = this.stats;
      sendJson(res, 200, { status: this.legacy.isReady ? 'ok' : 'restarting', ...(this.childEra ? { era: this.childEra } : {}), sessions, inflight: legacyInflight + modernInflight, children: this.children });
      return true;
    }
    return false;
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, res, this.limits, this.bodies);
    if (!input) return;
    const era = classify('POST', req.headers, input.parsed);
    if (era.kind === 'reject') {
      const id = (input.parsed as { id?: unknown } | null)?.id;
      sendJson(res, era.status, { jsonrpc: '2.0', id: typeof id === 'string' || typeof id === 'number' ? id : null, error: { code: era.code, message: era.message, ...(era.data !== undefined ? { data: era.data } : {}) } });
      return;
    }
    if (era.kind === 'modern') {
      await this.probe.known;
      this.modern.post(req, res, input.parsed as never, era.revision, era.isRequest, this.probe.era);
      return;
    }
    const messages = toMessages(input.parsed, res);
    if (messages) this.legacy.post(req, res, messages.messages, messages.isBatch);
  }

  /** `POST /messages?sessionId=…` (legacy SSE). */
  private async ssePost(req: IncomingMessage, res: ServerResponse, sessionId: string | null): Promise<void> {
    const session = sessionId ? this.legacy.sessions.get(sessionId) : undefined;
    if (!session || !session.legacy) {
      sendJson(res, 404, rpcError(-32001, 'Session not found'));
      return;
    }
    const input = await readJson(req, res, this.limits, this.bodies);
    if (!input) return;
    const messages = toMessages(input.parsed, res);
    if (messages) this.legacy.ssePost(session, res, messages.messages);
  }

  /** Ends every client stream (on stop). */
  closeAll(): void {
    this.legacy.sessions.closeAll();
    this.modern.closeAll();
    this.probe.close();
  }

  /** Stops the second child, if one was started for 2025-era sessions. */
  async stopLegacyChild(): Promise<void> {
    await this.second?.stop();
  }
}
