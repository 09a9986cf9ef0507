import type { ServerResponse } from 'node:http';
import { openEventStream, writeEvent } from './sse.js';
import { SESSION_HEADER, type Message } from './bridge-common.js';

/** The reply to one 2025-era POST: JSON by default, switched to SSE when something must be streamed before the answer. */
export class PostReply {
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
