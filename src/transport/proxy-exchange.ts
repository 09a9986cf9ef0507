import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';

/** The relaying half of the remote proxy (docs/workloads.md#the-remote-proxy): one request's exchange with the remote. */

/** Hop-by-hop headers of the remote's answer, and what would start a client's own login or session with it. */
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

/**
 * A kept-alive connection the remote closed as a request was sent on it, unanswered: undici reports
 * the closed socket with what it had read, and bytes read before this request mean it was reused.
 * (undici already waits a turn before reusing an idle connection, which catches most such closes.)
 */
function lostReusedConnection(err: Error & { code?: string; socket?: { bytesRead?: number } }): boolean {
  return err.code === 'UND_ERR_SOCKET' && (err.socket?.bytesRead ?? 0) > 0;
}

/** What an exchange asks of its proxy when the remote's answer is not simply relayed. */
export interface ExchangeOwner {
  /** An upstream 401 or insufficient-scope 403 that the credentials may cure: resolves true when they did. */
  cure(status: number, challenge: string): Promise<boolean> | undefined;
  refuse(res: ServerResponse, err: unknown, what: string, status?: number): void;
  failed(res: ServerResponse, err: Error & { code?: string }): void;
  replayFailed(res: ServerResponse, err: Error): void;
}

/** One request's trip to the remote and back, as undici's dispatcher reports it. */
export class Exchange implements Dispatcher.DispatchHandlers {
  private abort?: (err?: Error) => void;
  private answered = false;
  private settled = false;
  /** The body of an answer that is not relayed (a 401 being cured) is read and dropped. */
  private dropping = false;
  private corked = false;
  private gone = false;
  private resume?: () => void;
  private readonly onClientGone = () => {
    this.gone = true;
    if (!this.settled) this.abort?.();
  };

  constructor(
    private readonly proxy: ExchangeOwner,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    /** Sending the request again: after the credentials were cured, or on a fresh connection. */
    private readonly again: { retry?: () => Promise<void>; resend?: () => Promise<void> },
  ) {
    res.on('close', this.onClientGone);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    // The client went away before the request was written: it is not sent at all.
    if (this.gone) abort();
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    this.answered = true;
    if ((status === 401 || status === 403) && this.again.retry) {
      const challenge = status === 403 ? headerValue(raw, 'www-authenticate') : '';
      const cure = this.proxy.cure(status, challenge);
      if (cure) {
        this.dropping = true;
        this.settle();
        const retry = this.again.retry;
        cure.then(
          (fresh) => (fresh ? retry() : sendError(this.res, status, 'the remote server rejected the credentials')),
          (err: unknown) => this.proxy.refuse(this.res, err, status === 401 ? 'the remote server rejected the credentials' : '', status),
        ).catch((err: Error) => this.proxy.replayFailed(this.res, err));
        return true;
      }
    }
    const headers: string[] = [];
    let eventStream = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1');
      const lower = name.toLowerCase();
      if (DROPPED_RESPONSE_HEADERS.has(lower)) continue;
      const value = raw[i + 1]!.toString('latin1');
      if (lower === 'content-type') eventStream = value.startsWith('text/event-stream');
      headers.push(name, value);
    }
    this.res.writeHead(status, statusText || undefined, headers);
    // A GET event stream may stay silent for long, so its headers go out now to show it is open. Any
    // other answer (a POST's reply stream included) leaves its headers with its first bytes.
    if (eventStream && this.req.method === 'GET') this.res.flushHeaders();
    this.resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.dropping) return true;
    // Bytes that arrive together leave together: what one read brought (an event and the end of its
    // stream, typically) goes out in one write instead of one per piece. On a small machine a write
    // to a local socket is a good part of what the proxy adds per request (docs/workloads.md#benchmarks).
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      setImmediate(() => {
        this.corked = false;
        this.res.uncork();
      });
    }
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    if (this.dropping) return;
    this.settle();
    this.res.end();
  }

  onError(err: Error & { code?: string }): void {
    if (this.dropping) return;
    this.settle();
    if (this.res.destroyed) return;
    // Nothing was answered on a connection the remote closed as it was reused: the (buffered) request
    // goes again on a fresh connection, once. A fresh connection that breaks is a 502: the remote may
    // have acted on the request.
    const resend = this.again.resend;
    if (resend && !this.answered && lostReusedConnection(err) && !this.res.headersSent) {
      resend().catch((e: Error) => this.proxy.replayFailed(this.res, e));
      return;
    }
    this.proxy.failed(this.res, err);
  }

  private settle(): void {
    this.settled = true;
    this.res.off('close', this.onClientGone);
  }
}

function headerValue(raw: Buffer[], wanted: string): string {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toString('latin1').toLowerCase() === wanted) return raw[i + 1]!.toString('latin1');
  return '';
}

export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
