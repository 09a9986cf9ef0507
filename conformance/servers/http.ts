// The HTTP front both conformance servers use for the "direct" baseline of `npm run conformance`:
// 127.0.0.1 only, `/mcp` only, and the DNS-rebinding defence the suite's dns-rebinding-protection
// scenario asks of a local server (Host, and Origin when present, must name a loopback host).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function hostnameOf(value: string): string | undefined {
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname;
  } catch {
    return undefined;
  }
}

function isLocal(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (!host || !LOOPBACK.has(hostnameOf(host) ?? '')) return false;
  const origin = req.headers.origin;
  return origin === undefined || LOOPBACK.has(hostnameOf(origin) ?? '');
}

/** Serves `handle` on http://127.0.0.1:<port>/mcp; prints the URL once listening. */
export function serveHttp(port: number, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): void {
  const server = createServer((req, res) => {
    if (!isLocal(req)) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Forbidden host or origin' } }));
      return;
    }
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(`conformance server: ${error instanceof Error ? error.stack : String(error)}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } }));
    });
  });
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    if (address && typeof address === 'object') process.stderr.write(`listening on http://127.0.0.1:${address.port}/mcp\n`);
  });
}

/** Reads a request body as parsed JSON (undefined when empty or not JSON). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
