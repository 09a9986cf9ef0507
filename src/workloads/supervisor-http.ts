import type http from 'node:http';
import { join } from 'node:path';
import { ThvError } from '../core/errors.js';
import { HttpProxy } from '../transport/http-proxy.js';
import { inboundRefusal } from '../runtimes/container/inbound.js';
import type { SupervisedProcess } from './supervised-process.js';
import { lastOutputLines, markOutput } from './startup-window.js';
import { childOptions, hiddenValues, startupFailureHint, startupWindowMs, supervisedChild, type LocalUpstreamStart } from './supervised-child.js';
import { preparedRuntime } from './supervisor-stdio.js';

/**
 * An SSE/streamable-HTTP server in a container (docs/runtimes.md, "HTTP servers"): the runtime
 * starts it and tells where it answers; requests go there through the same HTTP proxy as a remote's,
 * after the profile's `network.inbound.allow_host`. Restarts follow the same policy as a stdio
 * server's; a restarted container may answer elsewhere, so the proxy follows each instance.
 */
export const startHttpContainerUpstream: LocalUpstreamStart = async (name, config, port, deps, setStatus, giveUp) => {
  const { log } = deps;
  const { spec, runtime } = await preparedRuntime(config, port, deps);
  let proxy: HttpProxy | undefined;
  const closeProxy = () => {
    proxy?.close();
    proxy = undefined;
  };
  const child: SupervisedProcess = supervisedChild('MCP server container', name, childOptions(spec, runtime, deps), deps, setStatus, giveUp, {
    onStdout: () => undefined,
    onStart: (_pid, restarts) => {
      proxy?.close();
      const url = child.url;
      proxy = url ? new HttpProxy({ target: url, log }) : undefined;
      log.info({ workload: name, restarts }, 'MCP server container started');
    },
    onExit: closeProxy,
  });
  const output = markOutput(join(deps.paths.logsDir, `${name}.log`));
  const ready = child.startWithin(startupWindowMs(deps)).catch((err: unknown) => {
    // The server's own output (stderr) says why; values of its environment are hidden all the same.
    const tail = lastOutputLines(output(), hiddenValues(config, deps));
    const message = err instanceof Error ? err.message : String(err);
    log.error({ workload: name }, `${message}; not restarting`);
    throw new ThvError('workload_failed', `${message}${tail ? `: ${tail}` : ''}`, {
      cause: err,
      hint: (err instanceof ThvError && err.hint) || startupFailureHint(name),
    });
  });
  const refuse = (res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
  return {
    handler: (req, res) => {
      const refusal = inboundRefusal(spec.profile, req.headers.host);
      if (refusal) return refuse(res, 403, refusal);
      const current = proxy;
      if (!current) return refuse(res, 503, 'the MCP server is (re)starting; retry shortly', { 'retry-after': '1' });
      // A request that fails in an unforeseen way is that request's 502; it must never end the supervisor.
      current.handle(req, res).catch((err: Error) => {
        log.error({ err: err.message }, 'request failed');
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
    },
    close: async () => {
      await child.stop();
      proxy?.close();
      await runtime.dispose().catch((err: Error) => log.warn({ err: err.message }, 'could not clean up after the MCP server'));
    },
    killNow: () => child.killNow(),
    ready,
  };
};
