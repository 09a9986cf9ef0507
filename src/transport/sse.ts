import type { ServerResponse } from 'node:http';

/** Starts a text/event-stream reply and sends the headers at once, so the client sees the stream open. */
export function openEventStream(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...headers,
  });
  res.flushHeaders();
}

/** One SSE event; `data` must not contain newlines (JSON.stringify output never does). */
export function writeEvent(res: ServerResponse, data: string, event = 'message'): boolean {
  return res.write(`event: ${event}\ndata: ${data}\n\n`);
}
