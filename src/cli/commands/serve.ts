import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { badRequest } from '../../core/errors.js';
import { failedTo } from '../errors.js';
import { renderJson } from '../output.js';

interface ServeOptions {
  host: string;
  port: string;
  openapi?: boolean;
}

export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Serve the local REST API (loopback only unless --host says otherwise)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--openapi', 'print the OpenAPI 3 document and exit')
    .action(async (opts: ServeOptions) => {
      const port = parsePort(opts.port);
      const api = await import('../../api/server.js');
      if (opts.openapi) {
        const { openApiDocument } = await import('../../api/openapi.js');
        const app = await api.buildApiServer(await api.defaultDeps(ctx.env, { paths: ctx.paths }), { host: opts.host });
        ctx.out(renderJson(openApiDocument(app)));
        await app.close();
        return;
      }
      const { isLoopbackHost } = await import('../../api/host-check.js');
      if (!isLoopbackHost(opts.host)) {
        ctx.err(`Warning: the API has no authentication; binding ${opts.host} exposes it to every machine that can reach that address.\n`);
      }
      const server = await failedTo('start the API server', () =>
        api.startApiServer({ host: opts.host, port, env: ctx.env, deps: { paths: ctx.paths } }),
      );
      ctx.err(`API server listening on ${server.url} (OpenAPI document at ${server.url}/api/openapi.json)\n`);
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
