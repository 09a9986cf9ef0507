import { createServer, type Server } from 'node:http';
import { ThvError } from '../core/errors.js';

export interface CallbackServerOptions {
  /** 0 picks a free port (tests, or IdPs that accept any loopback port per RFC 8252). */
  port: number;
  path?: string;
  /** How the user changes the port, named in the "port in use" error (e.g. `--callback-port`). */
  portHint?: string;
}

/**
 * The loopback end of a browser login (RFC 8252 §7.3). It listens on 127.0.0.1 only — never on all
 * interfaces — and hands the first request to its path to whoever waits for it.
 */
export interface CallbackServer {
  readonly port: number;
  readonly redirectUri: string;
  /** The query of the first request to the callback path. */
  readonly callback: Promise<URLSearchParams>;
  close(): Promise<void>;
}

const DONE_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>thv</title></head>
<body><p>The login has been received. You can close this window and return to the terminal.</p></body></html>`;

export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const path = options.path ?? '/callback';
  let deliver!: (params: URLSearchParams) => void;
  const callback = new Promise<URLSearchParams>((resolve) => (deliver = resolve));
  let delivered = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' || url.pathname !== path || delivered) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    delivered = true;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
    res.end(DONE_PAGE);
    deliver(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
        reject(
          new ThvError('port_in_use', `the login callback port ${options.port} on 127.0.0.1 is not available (${err.code})`, {
            cause: err,
            hint: `Free port ${options.port} or choose another one${options.portHint ? ` with ${options.portHint}` : ''}.`,
          }),
        );
      } else reject(err);
    });
    server.listen({ host: '127.0.0.1', port: options.port, exclusive: true }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  let closed: Promise<void> | undefined;
  return {
    port,
    redirectUri: `http://localhost:${port}${path}`,
    callback,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A browser keeps its connection alive; the port must be free as soon as the flow ends.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
