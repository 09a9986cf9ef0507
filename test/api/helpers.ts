import { request as httpRequest } from 'node:http';
import { createLogger, type Logger } from '../../src/core/log.js';
import { startApiServer, type RunningApiServer, type StartOptions } from '../../src/api/server.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Sent as is (no JSON encoding). */
  rawBody?: string | Buffer;
  /** Connect to this unix socket instead of the URL's host and port. */
  socketPath?: string;
}

/** One HTTP request over a real socket; node:http, so tests can set any Host header. */
export function send(baseUrl: string, path: string, options: SendOptions = {}): Promise<HttpResult> {
  const url = new URL(path, baseUrl);
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = {
    ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const target = options.socketPath ? { socketPath: options.socketPath, path: `${url.pathname}${url.search}` } : url;
    const req = httpRequest({ ...(target instanceof URL ? urlOptions(target) : target), method: options.method ?? 'GET', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function urlOptions(url: URL): { hostname: string; port: string; path: string } {
  return { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: `${url.pathname}${url.search}` };
}

export interface TestApi {
  server: RunningApiServer;
  home: TempHome;
  url: string;
  logLines: string[];
  logger: Logger;
  send(path: string, options?: SendOptions): Promise<HttpResult>;
  close(): Promise<void>;
}

/** The real server on 127.0.0.1 port 0, with its own XDG home and a captured JSON log. */
export async function startTestApi(
  options: { env?: NodeJS.ProcessEnv; home?: TempHome; deps?: StartOptions['deps']; host?: string } = {},
): Promise<TestApi> {
  const home = options.home ?? (await makeTempHome());
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (line) => void logLines.push(line) });
  const server = await startApiServer({
    host: options.host ?? '127.0.0.1',
    port: 0,
    env: { ...home.env, ...options.env },
    deps: { logger, ...options.deps },
    // Tests share one machine: the discovery file would be the temp home's, but nothing reads it here.
    discovery: false,
  });
  const auth = { authorization: `Bearer ${server.token}` };
  return {
    server,
    home,
    url: server.url,
    logLines,
    logger,
    // Authenticated as the owner unless the test sets its own Authorization header.
    send: (path, sendOptions) => send(server.url, path, { ...sendOptions, headers: { ...auth, ...sendOptions?.headers } }),
    close: async () => {
      await server.close();
      if (!options.home) await home.cleanup();
    },
  };
}
