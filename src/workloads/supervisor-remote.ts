import type http from 'node:http';
import type { Clock } from '../core/clock.js';
import { ThvError } from '../core/errors.js';
import { HttpProxy } from '../transport/http-proxy.js';
import { createRemoteCredentials } from './remote-credentials.js';
import type { SupervisorDeps, Upstream } from './supervisor-types.js';
import { workloadUrl, type RunConfig, type WorkloadStatus } from './types.js';

/**
 * The remote half of a supervisor (docs/remote-auth.md): a proxy to the remote MCP server with its
 * credentials. An OAuth login runs in the background from `start()` on, after the workload is
 * reported ready, and sets the status through `onStatus`.
 */
export async function startRemoteUpstream(
  name: string,
  config: RunConfig & { remote_url: string },
  port: number,
  deps: SupervisorDeps & { clock: Clock },
  onStatus: (status: WorkloadStatus, context: string) => void,
): Promise<Upstream> {
  const { log } = deps;
  const credentials = await createRemoteCredentials(config, {
    paths: deps.paths,
    env: deps.env,
    clock: deps.clock,
    log,
    secretValues: deps.secrets.values,
    onStatus,
  });
  const proxy = new HttpProxy({ target: config.remote_url, headers: remoteHeaders(config, deps.secrets.values), credentials, log });
  log.info({ workload: name, url: workloadUrl(config, port) }, 'proxying the remote MCP server');
  return {
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      // A request that fails in an unforeseen way is that request's 502; it must never end the supervisor.
      proxy.handle(req, res).catch((err: Error) => {
        log.error({ err: err.message }, 'request failed');
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
    },
    close: async () => {
      proxy.close();
      await credentials?.close?.();
    },
    ...(credentials?.start ? { start: () => credentials.start!() } : {}),
  };
}

/** The configured headers, with the credential ones resolved from the secrets handed over at start. */
function remoteHeaders(config: RunConfig, secretValues: Record<string, string>): Record<string, string> {
  const headers = { ...config.headers };
  for (const [header, ref] of Object.entries(config.header_refs ?? {})) {
    const value = secretValues[ref];
    if (value === undefined) throw new ThvError('not_found', `the value of header "${header}" was not handed to the supervisor`, { hint: `Restart the workload with \`thv restart ${config.name}\`.` });
    headers[header] = value;
  }
  return headers;
}
