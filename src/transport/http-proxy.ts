import http, { type IncomingMessage, type ServerResponse, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Logger } from '../core/log.js';
import { redactUrl } from '../core/errors.js';
import { AuthRetryingError, type UpstreamCredentials } from './upstream-credentials.js';
import { readBodyBuffer, BodyTooLargeError, BodyGate } from './body.js';

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
  'host',
  'content-length',
  // The client's token is for thv, never for the remote: the workload's own credentials are injected.
  'authorization',
  'cookie',
]);
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
  // A client that saw the remote's challenge would start its own OAuth flow, which thv would strip anyway.
  'www-authenticate',
  'set-cookie',
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
 */
export class HttpProxy {
  private readonly target: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly bodies: BodyGate;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: HttpProxyOptions) {
    this.bodies = new BodyGate(options.limits?.maxConcurrentBodies ?? MAX_CONCURRENT_BODIES);
    this.maxBodyBytes = options.limits?.maxBodyBytes ?? MAX_BODY_BYTES;
    this.target = new URL(options.target);
    const isHttps = this.target.protocol === 'https:';
    this.agent = isHttps ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    this.request = isHttps ? https.request : http.request;
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
    const headers = upstreamHeaders(req.headers, this.target, { ...this.options.headers, ...extra }, body);
    let upstream: http.ClientRequest;
    try {
      // Throws synchronously on a header value Node refuses to send (a control character).
      upstream = this.request({
        protocol: this.target.protocol,
        hostname: this.target.hostname.replace(/^\[|\]$/g, ''),
        port: this.target.port || undefined,
        method: req.method,
        path: req.url ?? '/',
        headers,
        agent: this.agent,
      });
    } catch (err) {
      this.options.log.error({ err: (err as Error).message, target: redactUrl(this.target.href) }, 'the request to the remote server could not be built');
      sendError(res, 502, 'the request could not be sent to the remote server');
      return;
    }
    const onClientGone = () => upstream.destroy();
    res.on('close', onClientGone);

    let answered = false;
    upstream.on('response', (upRes) => {
      answered = true;
      if (upRes.statusCode === 401 && mayRetry && this.options.credentials?.refreshAfterUnauthorized) {
        upRes.resume();
        res.off('close', onClientGone);
        this.options.credentials.refreshAfterUnauthorized().then(
          (fresh) => (fresh ? this.forward(req, res, body, false) : this.relay(req, upRes, res, true)),
          (err: unknown) => this.refuse(res, err, 'the remote server rejected the credentials'),
        ).catch((err: unknown) => {
          this.options.log.error({ err: (err as Error).message }, 'replaying a request failed');
          sendError(res, 502, 'the request could not be sent to the remote server');
        });
        return;
      }
      // Step-up (docs/remote-auth.md#step-up): the token lacks a scope; the credentials may authorize again once.
      const challenge = String(upRes.headers['www-authenticate'] ?? '');
      if (upRes.statusCode === 403 && mayRetry && this.options.credentials?.stepUpAfterForbidden && /insufficient_scope/i.test(challenge)) {
        upRes.resume();
        res.off('close', onClientGone);
        this.options.credentials.stepUpAfterForbidden(challenge).then(
          (fresh) => (fresh ? this.forward(req, res, body, false) : this.relay(req, upRes, res, true)),
          (err: unknown) => (err instanceof AuthRetryingError ? this.refuse(res, err, '') : sendError(res, 403, (err as Error).message)),
        ).catch((err: unknown) => {
          this.options.log.error({ err: (err as Error).message }, 'replaying a request failed');
          sendError(res, 502, 'the request could not be sent to the remote server');
        });
        return;
      }
      this.relay(req, upRes, res, false);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive connection the remote closed just as it was reused: nothing was answered, so
      // the (buffered) request goes again on a fresh connection, once (Node's documented pattern).
      if (mayResend && !answered && upstream.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && !res.headersSent && !res.destroyed) {
        res.off('close', onClientGone);
        this.forward(req, res, body, mayRetry, false).catch((e: Error) => sendError(res, 502, `remote server unreachable: ${e.message}`));
        return;
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      this.options.log.warn({ err: err.message, target: redactUrl(this.target.href) }, 'remote server unreachable');
      sendError(res, 502, `remote server unreachable: ${err.message}`);
    });
    upstream.end(body);
  }

  /** No usable credentials: 503 + Retry-After while they are being obtained or retried, else 401 with the reason. */
  private refuse(res: ServerResponse, err: unknown, what: string): void {
    if (err instanceof AuthRetryingError) {
      sendError(res, 503, err.message, { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterSeconds))) });
      return;
    }
    this.options.log.warn({ err: (err as Error).message }, what);
    sendError(res, 401, `${what}: ${(err as Error).message}`);
  }

  private relay(req: IncomingMessage, upRes: IncomingMessage, res: ServerResponse, drained: boolean): void {
    if (drained) {
      sendError(res, upRes.statusCode ?? 502, 'the remote server rejected the credentials');
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(upRes.headers)) {
      if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = value;
    }
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
    // A GET event stream may stay silent for long, so its headers go out now to show it is open. Any
    // other answer (a POST's reply stream included) leaves its headers with its first bytes.
    if (req.method === 'GET' && String(upRes.headers['content-type'] ?? '').startsWith('text/event-stream')) res.flushHeaders();
    // Bytes that arrive together leave together: what one read brought (an event and the end of its
    // stream, typically) goes out in one write instead of one per piece. On a small machine a write
    // to a local socket is a good part of what the proxy adds per request (docs/workloads.md#benchmarks).
    // By hand rather than pipe(): the same backpressure with less work per request.
    let corked = false;
    upRes.on('data', (chunk: Buffer) => {
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(() => {
          corked = false;
          res.uncork();
        });
      }
      if (!res.write(chunk)) {
        upRes.pause();
        res.once('drain', () => upRes.resume());
      }
    });
    upRes.on('end', () => res.end());
    upRes.on('error', () => res.destroy());
  }

  close(): void {
    this.agent.destroy();
  }
}

function upstreamHeaders(incoming: IncomingHttpHeaders, target: URL, extra: Record<string, string>, body: Buffer | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && !DROPPED_REQUEST_HEADERS.has(name)) out[name] = value;
  }
  out.host = target.host;
  if (body !== undefined) out['content-length'] = body.length;
  for (const [name, value] of Object.entries(extra)) out[name.toLowerCase()] = value;
  return out;
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
