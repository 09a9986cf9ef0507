import type http from 'node:http';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { ThvError } from '../core/errors.js';
import { HttpProxy } from '../transport/http-proxy.js';
import { inboundRefusal } from '../runtimes/container/inbound.js';
import { SupervisedProcess } from './supervised-process.js';
import { lastOutputLines, markOutput, startupGraceMs } from './startup-window.js';
import { preparedRuntime } from './supervisor-stdio.js';
import type { SupervisorDeps, Upstream } from './supervisor-types.js';
import type { RunConfig, WorkloadStatus } from './types.js';

type SetStatus = (status: WorkloadStatus, context?: string) => Promise<unknown>;

/**
 * An SSE/streamable-HTTP server in a container (docs/runtimes.md, "HTTP servers"): the runtime
 * starts it and tells where it answers; requests go there through the same HTTP proxy as a remote's,
 * after the profile's `network.inbound.allow_host`. Restarts follow the same policy as a stdio
 * server's; a restarted container may answer elsewhere, so the proxy follows each instance.
 */
export async function startHttpContainerUpstream(
  name: string,
  config: RunConfig,
  port: number,
  deps: SupervisorDeps & { pid: number; clock: Clock },
  setStatus: SetStatus,
  giveUp: (context: string) => void,
): Promise<Upstream> {
  const { log, clock } = deps;
  const { spec, runtime } = await preparedRuntime(config, port, deps);
  let proxy: HttpProxy | undefined;
  let lastCrash = '';
  let crashCount = 0;
  const child: SupervisedProcess = new SupervisedProcess({
    spec,
    runtime,
    clock,
    ...(deps.policy ? { policy: deps.policy } : {}),
    ...(deps.stopGraceMs !== undefined ? { stopGraceMs: deps.stopGraceMs } : {}),
    onStdout: () => undefined,
    onStart: (_pid, restarts) => {
      proxy?.close();
      const url = child.url;
      proxy = url ? new HttpProxy({ target: url, log }) : undefined;
      log.info({ workload: name, restarts }, 'MCP server container started');
      if (restarts > 0) void setStatus('running', `restarted after a crash (${crashCount} so far); last: ${lastCrash}`);
    },
    onExit: (info) => {
      crashCount++;
      proxy?.close();
      proxy = undefined;
      lastCrash = `MCP server container ${info.reason} at ${new Date(clock.now()).toISOString()}`;
      log.error({ workload: name, restartInMs: info.restartInMs, consecutive: info.consecutiveCrashes }, `${lastCrash}; restarting`);
      void setStatus('unhealthy', `${lastCrash}; restarting in ${info.restartInMs} ms`);
    },
    onGiveUp: (info) => {
      proxy?.close();
      proxy = undefined;
      lastCrash = `MCP server container ${info.reason} at ${new Date(clock.now()).toISOString()}`;
      log.error({ workload: name }, `${lastCrash}; gave up after ${info.consecutiveCrashes} restarts in a row`);
      giveUp(`gave up after ${info.consecutiveCrashes} crashes in a row; last: ${lastCrash}`);
    },
  });
  const output = markOutput(join(deps.paths.logsDir, `${name}.log`));
  const ready = child.startWithin(deps.startupGraceMs ?? startupGraceMs(deps.env, (variable, value) => log.warn(`ignoring ${variable}=${JSON.stringify(value)}: not a duration; using the default of 2s`))).catch((err: unknown) => {
    // The server's own output (stderr) says why; values of its environment are hidden all the same.
    const hide = [...Object.values(config.env), ...Object.values(deps.secrets.env)];
    const tail = lastOutputLines(output(), hide);
    const message = err instanceof Error ? err.message : String(err);
    log.error({ workload: name }, `${message}; not restarting`);
    throw new ThvError('workload_failed', `${message}${tail ? `: ${tail}` : ''}`, {
      cause: err,
      hint: (err instanceof ThvError && err.hint) || `See \`thv logs ${name}\` for its output; fix the cause and run \`thv start ${name}\`, or remove it with \`thv rm ${name}\``,
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
}
