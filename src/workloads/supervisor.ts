import http from 'node:http';
import type { Logger } from '../core/log.js';
import { systemClock } from '../core/clock.js';
import { isThvError } from '../core/errors.js';
import { listen } from '../transport/listen.js';
import { refuseMcpCaller, isExposedHost } from '../transport/mcp-guard.js';
import { RunConfigStore } from './run-config-store.js';
import { StatusStore } from './status-store.js';
import type { RunningSupervisor, SupervisorDeps, Upstream } from './supervisor-types.js';
import { startRemoteUpstream } from './supervisor-remote.js';
import { startStdioUpstream } from './supervisor-stdio.js';
import { startHttpContainerUpstream } from './supervisor-http.js';
import { workloadUrl, type RunConfig, type WorkloadStatus } from './types.js';

export type { RunningSupervisor, SupervisorDeps, SupervisorSecrets, Upstream } from './supervisor-types.js';

/**
 * Runs one workload: binds its port, starts the stdio child behind the bridge (or the proxy for a
 * remote, or for an SSE/streamable-HTTP server in a container) and keeps the status file true. Rejects when the workload cannot start; the status file
 * then says why.
 */
export async function startSupervisor(name: string, deps: SupervisorDeps): Promise<RunningSupervisor> {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  const pid = deps.pid ?? process.pid;
  const statuses = new StatusStore(deps.paths, clock);
  const runConfigs = new RunConfigStore(deps.paths);
  const mine = (current: { process_id: number } | undefined) => current?.process_id === pid;
  // One write at a time, in call order: a login that completes at once must not be overtaken by the
  // `unauthenticated` it replaces.
  let lastWrite: Promise<unknown> = Promise.resolve();
  const setStatus = (status: WorkloadStatus, context = '') =>
    (lastWrite = lastWrite.then(() =>
      statuses.set(name, status, context, { onlyIf: mine }).catch((err: Error) => log.error({ err: err.message }, 'failed to write the status file')),
    ));

  await statuses.set(name, 'starting', '', { processId: pid });
  const config = await runConfigs.get(name);
  let upstream: Upstream | undefined;
  let boundPort = 0;
  const server = http.createServer((req, res) => {
    // DNS rebinding and cross-site callers (docs/workloads.md#who-may-call-a-workload).
    const refusal = refuseMcpCaller(req, { host: config.host, ...(boundPort ? { port: boundPort } : {}) });
    if (refusal) {
      res.writeHead(refusal.status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: refusal.message }, id: null }));
      return;
    }
    if (upstream) upstream.handler(req, res);
    else res.writeHead(503).end();
  });
  server.keepAliveTimeout = 65_000;
  let port: number;
  try {
    port = await bindPort(server, config, log);
  } catch (err) {
    await setStatus('error', describe(err));
    throw err;
  }
  boundPort = port;
  if (isExposedHost(config.host)) {
    log.warn({ host: config.host }, 'the MCP endpoint listens beyond this machine and has no authentication of its own; only the Host and Origin checks protect it');
  }
  if (port !== config.port) await runConfigs.update(name, (latest) => ({ ...latest, port }));

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let stopping: Promise<void> | undefined;
  const stop = (context = '', finalStatus: WorkloadStatus = 'stopped') => {
    stopping ??= (async () => {
      await setStatus('stopping', context);
      server.close();
      server.closeAllConnections();
      await upstream?.close();
      await setStatus(finalStatus, context);
      log.info({ workload: name }, 'supervisor stopped');
      resolveDone();
    })();
    return stopping;
  };

  try {
    const upstreamDeps = { ...deps, clock, pid };
    upstream = config.remote_url
      ? await startRemoteUpstream(name, { ...config, remote_url: config.remote_url }, port, upstreamDeps, (status, context) => {
          if (!stopping) void setStatus(status, context);
        })
      : config.image && config.transport !== 'stdio'
        ? await startHttpContainerUpstream(name, config, port, upstreamDeps, setStatus, (context) => void stop(context, 'error'))
        : await startStdioUpstream(name, config, port, upstreamDeps, setStatus, (context) => void stop(context, 'error'));
    await upstream.ready;
  } catch (err) {
    server.close();
    server.closeAllConnections();
    await upstream?.close().catch(() => undefined);
    await setStatus('error', describe(err));
    throw err;
  }
  // Whatever ends this process, the child's group must not outlive it.
  const { killNow, start } = upstream;
  process.once('exit', () => killNow?.());
  // Credentials obtained in the background (an OAuth login can take minutes) set the status from
  // here on: `unauthenticated` with the URL while the user logs in, then `running`.
  if (start) start();
  else await setStatus('running');
  return { url: workloadUrl(config, port), port, done, stop };
}

/** The recorded port when possible; a fixed port that is taken is an error, an automatic one is replaced. */
async function bindPort(server: http.Server, config: RunConfig, log: Logger): Promise<number> {
  if (!config.port) return listen(server, config.host, 0);
  try {
    return await listen(server, config.host, config.port);
  } catch (err) {
    if (config.port_fixed || !isThvError(err, 'port_in_use')) throw err;
    log.warn({ port: config.port }, 'the previous port is taken; using a free one');
    return listen(server, config.host, 0);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
