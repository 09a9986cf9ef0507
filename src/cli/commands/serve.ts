import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { badRequest } from '../../core/errors.js';
import { failedTo } from '../errors.js';

interface ServeOptions {
  host: string;
  port: string;
  socket?: string;
  openapi?: boolean;
}

export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Serve the local REST API to its owner: on a unix socket (--socket) or on loopback with a bearer token')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--socket <path>', 'listen on this unix socket (0600, in a 0700 folder) instead of a TCP port')
    .option('--openapi', 'also serve the HTML API reference at /api/doc (the document is always at /api/openapi.json)')
    .action(async (opts: ServeOptions) => {
      const port = parsePort(opts.port);
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
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw badRequest(`--port must be a number from 0 to 65535, not "${text}"`);
  return port;
}
