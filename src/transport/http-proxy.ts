import type { IncomingMessage, ServerResponse, IncomingHttpHeaders } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import type { Logger } from '../core/log.js';
import { redactUrl } from '../core/errors.js';
import { AuthRetryingError, type UpstreamCredentials } from './upstream-credentials.js';
import { readBodyBuffer, BodyTooLargeError, BodyGate } from './body.js';
import { Exchange, sendError, type ExchangeOwner } from './proxy-exchange.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Request bodies buffered at once: with the size cap, at most 8 × 16 MiB held (docs/workloads.md#limits). */
const MAX_CONCURRENT_BODIES = 8;

/** Headers that describe one hop and must not be forwarded (RFC 9110 §7.6.1), plus the client's credentials. */
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Answered by thv's own server (100 Continue); the remote gets the whole body at once.
  'expect',
  // Set by the upstream client from the target and the body.
  'host',
  'content-length',
  // The client's token is for thv, never for the remote: the workload's own credentials are injected.
  'authorization',
  'cookie',
]);

export interface HttpProxyOptions {
  /** The remote MCP URL; its origin receives every request, the client's path is kept. */
  target: string;
  /** Extra headers for every upstream request (configured with the workload). */
  headers?: Record<string, string>;
  credentials?: UpstreamCredentials;
  log: Logger;
  limits?: { maxBodyBytes?: number; maxConcurrentBodies?: number };
}

/**
 * A streaming reverse proxy for one remote MCP server: bodies are never buffered on the way back (SSE
 * events pass through as they arrive); request bodies are buffered (MCP messages are small) so a
 * request can be replayed once after the credentials were refreshed on a 401.
 *
 * Upstream requests go through undici's pool rather than `http.request`: the same keep-alive
 * HTTP/1.1, each request written in one piece, and about a fifth less work per request in the
 * supervisor (docs/workloads.md#benchmarks).
 */
export class HttpProxy implements ExchangeOwner {
  private readonly target: URL;
  /** Loaded when a proxy is made rather than with this module, which every CLI command that can start a workload bundles. */
  private pool?: Pool;
  private readonly poolLoading: Promise<Pool>;
  private readonly bodies: BodyGate;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: HttpProxyOptions) {
    this.bodies = new BodyGate(options.limits?.maxConcurrentBodies ?? MAX_CONCURRENT_BODIES);
    this.maxBodyBytes = options.limits?.maxBodyBytes ?? MAX_BODY_BYTES;
    this.target = new URL(options.target);
    // No time limits: a tool call may run for minutes and an event stream may stay silent as long;
    // the client going away is what ends a request.
    this.poolLoading = import('undici/lib/dispatcher/pool.js').then(({ default: PoolClass }) => {
      this.pool = new PoolClass(this.target.origin, { headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000 });
      return this.pool;
    });
  }

  /** Never rejects: whatever goes wrong with one request is that request's 502, not the supervisor's death. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.handleRequest(req, res);
    } catch (err) {
      this.options.log.error({ err: (err as Error).message }, 'proxying a request failed');
      sendError(res, 502, 'the request could not be sent to the remote server');
    }
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'DELETE') {
      if (Number(req.headers['content-length'] ?? 0) > this.maxBodyBytes) {
        sendError(res, 413, 'request body too large', { connection: 'close' });
        return;
      }
      // Buffered so that a request can be replayed after a credentials refresh; bounded in size and
      // in how many are held at once.
      const release = this.bodies.enter();
      if (!release) {
        sendError(res, 503, 'too many requests being received at once; retry later', { 'retry-after': '1', connection: 'close' });
        return;
      }
      try {
        body = await readBodyBuffer(req, this.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) sendError(res, 413, 'request body too large', { connection: 'close' });
        else res.destroy();
        return;
      } finally {
        release();
      }
    }
    await this.forward(req, res, body, true);
  }

  private async forward(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, mayRetry: boolean, mayResend = true): Promise<void> {
    let extra: Record<string, string>;
    try {
      extra = this.options.credentials ? await this.options.credentials.headers() : {};
    } catch (err) {
      this.refuse(res, err, 'no credentials for the remote server');
      return;
    }
    const pool = this.pool ?? (await this.poolLoading);
    if (res.destroyed) return;
    const headers = upstreamHeaders(req.headers, this.options.headers, extra);
    const again = (retry: boolean, resend: boolean) => () => this.forward(req, res, body, retry, resend);
    pool.dispatch(
      { method: req.method as Dispatcher.HttpMethod, path: req.url ?? '/', headers, body },
      new Exchange(this, req, res, { retry: mayRetry ? again(false, false) : undefined, resend: mayResend ? again(mayRetry, false) : undefined }),
    );
  }

  /** An upstream 401 or insufficient-scope 403 that the credentials may cure: true when they did. */
  cure(status: number, challenge: string): Promise<boolean> | undefined {
    const credentials = this.options.credentials;
    if (status === 401 && credentials?.refreshAfterUnauthorized) return credentials.refreshAfterUnauthorized();
    // Step-up (docs/remote-auth.md#step-up): the token lacks a scope; the credentials may authorize again once.
    if (status === 403 && credentials?.stepUpAfterForbidden && /insufficient_scope/i.test(challenge)) return credentials.stepUpAfterForbidden(challenge);
    return undefined;
  }

  /** No usable credentials: 503 + Retry-After while they are being obtained or retried, else 401 with the reason. */
  refuse(res: ServerResponse, err: unknown, what: string, status = 401): void {
    if (err instanceof AuthRetryingError) {
      sendError(res, 503, err.message, { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterSeconds))) });
      return;
    }
    if (what) this.options.log.warn({ err: (err as Error).message }, what);
    sendError(res, status, what ? `${what}: ${(err as Error).message}` : (err as Error).message);
  }

  /** The request could not reach the remote, or the remote broke off before answering. */
  failed(res: ServerResponse, err: Error & { code?: string }): void {
    if (err.code === 'UND_ERR_INVALID_ARG') {
      // A header value that cannot be sent (a control character); a credentials object could produce one.
      this.options.log.error({ err: err.message, target: redactUrl(this.target.href) }, 'the request to the remote server could not be built');
      sendError(res, 502, 'the request could not be sent to the remote server');
      return;
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.options.log.warn({ err: err.message, target: redactUrl(this.target.href) }, 'remote server unreachable');
    sendError(res, 502, `remote server unreachable: ${err.message}`);
  }

  /** A failure of replaying or resending a request, which must not escape as an unhandled rejection. */
  replayFailed(res: ServerResponse, err: Error): void {
    this.options.log.error({ err: err.message }, 'replaying a request failed');
    sendError(res, 502, 'the request could not be sent to the remote server');
  }

  close(): void {
    this.poolLoading.then((pool) => pool.destroy()).catch(() => undefined);
  }
}

function upstreamHeaders(incoming: IncomingHttpHeaders, configured: Record<string, string> | undefined, extra: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value !== undefined && !DROPPED_REQUEST_HEADERS.has(name)) out[name] = value;
  }
  // The workload's configured headers, then its credentials, replace whatever the client sent.
  for (const added of [configured ?? {}, extra]) for (const name in added) out[name.toLowerCase()] = added[name]!;
  return out;
}
