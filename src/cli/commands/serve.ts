import type { Command } from 'commander';
import { isInteractive, type CliContext } from '../context.js';
import { failedTo } from '../errors.js';
import { portOption } from '../options.js';

interface ServeOptions {
  host: string;
  port: number;
  socket?: string;
  openapi?: boolean;
}

export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Serve the local REST API to its owner: on a unix socket (--socket) or on loopback with a bearer token')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .addOption(portOption('--port <port>', 'port to listen on (0 picks a free one)', { allowZero: true, default: 8080 }))
    .option('--socket <path>', 'listen on this unix socket (0600, in a 0700 folder) instead of a TCP port')
    .option('--openapi', 'also serve the HTML API reference at /api/doc (the document is always at /api/openapi.json)')
    .action(async (opts: ServeOptions) => {
      const { port } = opts;
      const api = await import('../../api/server.js');
      if (!opts.socket) {
        const { isLoopbackHost } = await import('../../transport/guards.js');
        if (!isLoopbackHost(opts.host)) {
          ctx.err(
            `Warning: binding ${opts.host} lets every machine that can reach that address try the API; it still requires the bearer token, which travels unencrypted over HTTP.\n`,
          );
        }
      }
      const server = await failedTo('start the API server', () =>
        api.startApiServer({
          host: opts.host,
          port,
          ...(opts.socket ? { socket: opts.socket } : {}),
          ...(opts.openapi ? { openapi: true } : {}),
          env: ctx.env,
          deps: { paths: ctx.paths },
        }),
      );
      ctx.err(`API server listening on ${server.url} (OpenAPI document at /api/openapi.json${opts.openapi ? ', reference at /api/doc' : ''})\n`);
      if (server.token) {
        // Shown once so a person can curl the API; tools read it from the discovery file instead.
        ctx.err(`API token (send as "Authorization: Bearer <token>"; also in ${(await import('../../api/discovery.js')).discoveryFile(ctx.paths)}):\n${server.token}\n`);
      }
      if (server.dashboardUrl) ctx.err(`Dashboard (this sign-in link works once, for 5 minutes; \`thv ui\` opens a fresh one):\n${server.dashboardUrl}\n`);
      await untilSignal(server);
    });

  program
    .command('ui')
    .description('Open the web dashboard: signs in to a running `thv serve`, or starts one on loopback')
    .addOption(portOption('--port <port>', 'port for a new server (0 picks a free one)', { allowZero: true, default: 8080 }))
    .option('--no-open', 'print the sign-in link instead of opening a browser')
    .action(async (opts: { port: number; open: boolean }) => {
      const port = opts.port;
      const show = async (url: string) => {
        ctx.err(`Dashboard (this sign-in link works once, for 5 minutes):\n${url}\n`);
        // A headless process never opens a browser; the link above is all it gives.
        if (opts.open && isInteractive(ctx)) await (await import('../../auth/opener.js')).systemOpener(ctx.env)(url);
      };
      const running = await signInToRunningServer(ctx);
      if (running) {
        await show(running);
        return;
      }
      const api = await import('../../api/server.js');
      const server = await failedTo('start the API server', () => api.startApiServer({ host: '127.0.0.1', port, env: ctx.env, deps: { paths: ctx.paths } }));
      ctx.err(`API server listening on ${server.url}; press Ctrl-C to stop it.\n`);
      await show(server.dashboardUrl!);
      await untilSignal(server);
    });
}

/** Keeps a server up until SIGINT/SIGTERM, then closes it (removing its socket and discovery file). */
function untilSignal(server: { close(): Promise<void> }): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * A fresh sign-in link from the server recorded in the discovery file, proving ownership with its
 * bearer token; undefined when none answers (not running, a socket-only server, a stale file).
 */
async function signInToRunningServer(ctx: CliContext): Promise<string | undefined> {
  const { readDiscovery } = await import('../../api/discovery.js');
  const record = await readDiscovery(ctx.paths);
  if (!record?.token || !record.url.startsWith('http://')) return undefined;
  try {
    const response = await fetch(`${record.url}/api/v1beta/ui/login-link`, {
      method: 'POST',
      headers: { authorization: `Bearer ${record.token}` },
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { url?: unknown };
    return typeof body.url === 'string' ? body.url : undefined;
  } catch {
    return undefined;
  }
}
