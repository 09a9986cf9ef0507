import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { systemOpener } from '../auth/opener.js';
import { log } from '../core/log.js';
import { resolvePaths } from '../core/paths.js';
import { ThvError, isThvError } from '../core/errors.js';
import { checkCrossSite, checkHost, checkJsonBody } from '../transport/guards.js';
import { listen } from '../transport/listen.js';
import { listenOnUnixSocket, removeSocketFile } from '../transport/unix-socket.js';
import { bearerTokenAuthenticator, installAuthGuard, newApiToken, unixSocketAuthenticator, type Authenticator } from './auth-guard.js';
import { apiServices, routeDeps, type ApiDeps } from './deps.js';
import { removeDiscovery, writeDiscovery } from './discovery.js';
import { registerDocPage } from './doc-page.js';
import { dashboardEntryAuthenticator, loadDashboardAssets, registerDashboard } from './dashboard.js';
import { UiSessions } from './ui-session.js';
import { ApiError, forbidden, toApiError } from './errors.js';
import { registerOpenApi } from './openapi.js';
import { logRequests } from './request-log.js';
import { ROUTE_MODULES } from './routes/index.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 8080;

export interface BuildOptions {
  /** The address the server is (or will be) bound to; decides which Host headers are accepted. */
  host?: string;
  /**
   * Served on a unix socket: no web page can reach it, so the Host/Origin checks (which protect a
   * loopback port from browsers) do not apply; the socket's mode decides who connects.
   */
  socket?: boolean;
  /** Who may call (docs/api.md#who-may-call-it); required, so no caller builds an open API by accident. */
  authenticators: readonly Authenticator[];
  /** `--openapi`: also serve the HTML reference at `/api/doc`. */
  openapi?: boolean;
  /** Serve the web dashboard at `/` (docs/dashboard.md); its sessions are one more owner credential. */
  dashboard?: { sessions: UiSessions; assets?: Map<string, Buffer> };
}

/**
 * The API as a Fastify instance, not yet listening (tests and `--openapi` use it without a port).
 * Every response, including errors from Fastify itself, is JSON `{code, message}` on failure.
 */
export async function buildApiServer(deps: ApiDeps, options: BuildOptions): Promise<FastifyInstance> {
  const host = options.host ?? DEFAULT_API_HOST;
  const logger = deps.logger ?? log();
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    // Fastify's default would silently drop a misspelt key, so a typo in a PUT would reset the
    // registry; refuse it instead.
    ajv: { customOptions: { removeAdditional: false } },
  });
  useStrictBodyValidation(app);

  // A request target must be a path: absolute-form and `*` name another server (docs/workloads.md#who-may-call-a-workload).
  app.addHook('onRequest', async (request) => {
    if (!request.raw.url?.startsWith('/') || request.raw.url.startsWith('//')) throw new ApiError(400, 'bad_request', 'the request target must be a path (origin-form)');
  });
  app.addHook('onRequest', async (request) => {
    if (options.socket) return;
    const address = app.server.address() as AddressInfo | null;
    const bound = address && typeof address === 'object' ? { host, port: address.port } : { host };
    // DNS rebinding and cross-site requests from web pages (docs/api.md#safety).
    const refusal = checkHost(request.headers, bound) ?? checkCrossSite(request.method, request.headers, bound);
    if (refusal) throw forbidden(refusal);
    const notJson = checkJsonBody(request.method, request.headers);
    if (notJson) throw new ApiError(415, 'unsupported_media_type', notJson);
  });
  app.addHook('onSend', async (_request, reply) => {
    // Responses describe local state and carry login URLs: nothing may cache or sniff them.
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
  });
  installAuthGuard(
    app,
    options.dashboard
      ? [...options.authenticators, options.dashboard.sessions.authenticator(), dashboardEntryAuthenticator(options.dashboard.sessions)]
      : options.authenticators,
  );
  logRequests(app, logger);
  acceptEmptyJsonBodies(app);

  app.setErrorHandler(async (err, request, reply) => {
    const { status, body, expected } = toApiError(err);
    if (!expected) logger.error({ err, method: request.method, route: request.routeOptions.url }, 'api request failed');
    return reply.status(status).type('application/json').send(body);
  });
  app.setNotFoundHandler(async (request) => {
    throw new ApiError(404, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`);
  });

  await registerOpenApi(app);
  if (options.openapi) registerDocPage(app);
  if (options.dashboard) {
    const { sessions } = options.dashboard;
    registerDashboard(app, sessions, options.dashboard.assets);
    app.post('/api/v1beta/ui/login-link', { schema: { tags: ['system'], summary: 'A fresh single-use dashboard sign-in link (valid 5 minutes)' } }, async (request) => {
      const base = `http://${request.headers.host}`;
      return { url: `${base}/?token=${sessions.issueLoginToken()}` };
    });
  }
  const withServices = routeDeps(deps);
  for (const register of ROUTE_MODULES) await register(app, withServices);
  await app.ready();
  return app;
}

/**
 * JSON bodies are validated as sent: `{"name": ["a"]}` is a 400, not the group `a`. Only query
 * strings and path parameters, which are text by nature, are coerced (`?all=true`).
 */
function useStrictBodyValidation(app: FastifyInstance): void {
  const options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false } as const;
  const strict = new Ajv({ ...options, coerceTypes: false });
  const coercing = new Ajv({ ...options, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}

/**
 * `PUT /registry/default` with an empty body resets the registry; Fastify would refuse an empty
 * body sent as JSON, so the JSON parser treats it as "no body".
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ApiError(400, 'bad_request', 'request body is not valid JSON'), undefined);
    }
  });
}

export interface StartOptions {
  host?: string;
  port?: number;
  /** Listen on this unix socket instead of host:port (`thv serve --socket`). */
  socket?: string;
  /** The bearer token a TCP server requires; a fresh random one when absent. */
  token?: string;
  openapi?: boolean;
  /** Record the server in `$XDG_STATE_HOME/toolhive/server/server.json` (default true). */
  discovery?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Overrides for tests; anything not given is built the way `thv serve` builds it. */
  deps?: Partial<ApiDeps>;
}

export interface RunningApiServer {
  app: FastifyInstance;
  /** Base URL, e.g. `http://127.0.0.1:8080`, or `unix://<path>` on a socket. */
  url: string;
  host: string;
  port: number;
  /** The socket path when serving on a unix socket. */
  socket?: string;
  /** The bearer token TCP requests need; absent on a socket. */
  token?: string;
  /** A single-use dashboard sign-in link (TCP only). */
  dashboardUrl?: string;
  close(): Promise<void>;
}

export async function startApiServer(options: StartOptions = {}): Promise<RunningApiServer> {
  const host = options.host ?? DEFAULT_API_HOST;
  const port = options.port ?? DEFAULT_API_PORT;
  const deps = await defaultDeps(options.env ?? process.env, options.deps);
  const token = options.socket ? undefined : (options.token ?? newApiToken());
  // Browsers reach TCP only; a unix socket serves tools.
  const sessions = options.socket ? undefined : new UiSessions(deps.clock);
  const app = await buildApiServer(deps, {
    host,
    socket: Boolean(options.socket),
    authenticators: token ? [bearerTokenAuthenticator(token)] : [unixSocketAuthenticator()],
    ...(options.openapi ? { openapi: true } : {}),
    ...(sessions ? { dashboard: { sessions, assets: loadDashboardAssets() } } : {}),
  });
  await app.ready();
  let url: string;
  let boundPort = 0;
  let socketPath: string | undefined;
  try {
    if (options.socket) {
      socketPath = await listenOnUnixSocket(app.server, options.socket);
      url = `unix://${socketPath}`;
    } else {
      // The transport's listen names the port in use (or refused) as a port_in_use ThvError.
      await listen(app.server, host, port);
      const address = app.server.address() as AddressInfo;
      const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      boundPort = address.port;
      url = `http://${urlHost}:${address.port}`;
    }
  } catch (err) {
    await app.close();
    if (!isThvError(err, 'port_in_use') || options.socket) throw err;
    throw new ThvError('port_in_use', err.message, { cause: err.cause, hint: 'Choose another port with --port.' });
  }
  const recordDiscovery = options.discovery ?? true;
  if (recordDiscovery) {
    await writeDiscovery(deps.paths, { url, socket: socketPath ?? '', pid: process.pid, started_at: new Date().toISOString(), token: token ?? '' });
  }
  return {
    app,
    url,
    host,
    port: boundPort,
    ...(socketPath ? { socket: socketPath } : {}),
    ...(token ? { token } : {}),
    ...(sessions ? { dashboardUrl: `${url}/?token=${sessions.issueLoginToken()}` } : {}),
    close: async () => {
      await app.close();
      if (socketPath) await removeSocketFile(socketPath);
      if (recordDiscovery) await removeDiscovery(deps.paths);
    },
  };
}

export async function defaultDeps(env: NodeJS.ProcessEnv, overrides: Partial<ApiDeps> = {}): Promise<ApiDeps> {
  const paths = overrides.paths ?? resolvePaths(env);
  // The API never starts a browser flow or binds a callback port on its own (apiServices).
  const app = overrides.app ?? apiServices({ ...overrides, paths, env });
  const registry = overrides.registry ?? (await app.registry());
  // The opener reads BROWSER like the CLI's; it runs only when a client sends open_browser: true.
  return { opener: systemOpener(env), ...overrides, paths, env, registry, app };
}
