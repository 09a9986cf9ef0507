import http from 'node:http';
import { join } from 'node:path';
import type { Paths } from '../core/paths.js';
import type { Logger } from '../core/log.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { ThvError, isThvError } from '../core/errors.js';
import { listen } from '../transport/listen.js';
import { refuseMcpCaller, isExposedHost } from '../transport/mcp-guard.js';
import { StdioBridge, DEFAULT_BRIDGE_LIMITS, type BridgeLimits } from '../transport/stdio-bridge.js';
import { HttpProxy } from '../transport/http-proxy.js';
import { RunConfigStore } from './run-config-store.js';
import { StatusStore } from './status-store.js';
import { EarlyExitError, SupervisedProcess, type RestartPolicy } from './supervised-process.js';
import { lastOutputLines, markOutput, startupGraceMs } from './startup-window.js';
import { childEnvironment } from './child-env.js';
import { ChildRecordStore, childRecord } from './child-record.js';
import { createRemoteCredentials } from './remote-credentials.js';
import { defaultRuntimes, hostRuntimes, type RuntimeRegistry } from '../runtimes/index.js';
import { thvEndpointCheck } from '../isolation/thv-endpoints.js';
import type { LaunchSpec, Runtime } from '../runtimes/types.js';
import { NONE_PROFILE } from '../isolation/profile.js';
import { workloadUrl, type RunConfig, type WorkloadStatus } from './types.js';

/** Handed to the supervisor by whoever starts it (on stdin for a detached one); never stored. */
export interface SupervisorSecrets {
  /** `--secret` values by target environment variable. */
  env: Record<string, string>;
  /** Values of secrets-store keys referenced by the run config (remote auth). */
  values: Record<string, string>;
  /**
   * Credential variables the supervisor itself needs (TOOLHIVE_SECRETS_PASSWORD for a remote OAuth
   * workload that stores refreshed tokens); kept out of its process environment (docs/isolation.md).
   */
  supervisorEnv?: Record<string, string>;
}

export interface SupervisorDeps {
  paths: Paths;
  /** The supervisor's own environment: the base of the child's minimal one. */
  env: NodeJS.ProcessEnv;
  log: Logger;
  secrets: SupervisorSecrets;
  clock?: Clock;
  policy?: RestartPolicy;
  stopGraceMs?: number;
  /**
   * How long a stdio server must stay up on its first start before the workload is reported ready
   * (default: TOOLHIVE_STARTUP_GRACE, else 2 s; 0: at once).
   */
  startupGraceMs?: number;
  /** This process's id as recorded in the status file. */
  pid?: number;
  /** Where the runtime named by the run config comes from (default: this process's registry). */
  runtimes?: RuntimeRegistry;
}

export interface RunningSupervisor {
  url: string;
  port: number;
  /** Resolves when the supervisor has stopped (by `stop()` or by giving up on a crashing child). */
  done: Promise<void>;
  stop(context?: string, finalStatus?: WorkloadStatus): Promise<void>;
}

/**
 * Runs one workload: binds its port, starts the stdio child behind the bridge (or the proxy for a
 * remote) and keeps the status file true. Rejects when the workload cannot start; the status file
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
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  let boundPort = 0;
  const server = http.createServer((req, res) => {
    // DNS rebinding and cross-site callers (docs/workloads.md#who-may-call-a-workload).
    const refusal = refuseMcpCaller(req, { host: config.host, ...(boundPort ? { port: boundPort } : {}) });
    if (refusal) {
      res.writeHead(refusal.status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: refusal.message }, id: null }));
      return;
    }
    handler(req, res);
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

  let stopChild: () => Promise<void> = async () => undefined;
  let killChildNow = () => undefined as void;
  let closeUpstream: () => Promise<void> = async () => undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let stopping: Promise<void> | undefined;

  const stop = (context = '', finalStatus: WorkloadStatus = 'stopped') => {
    stopping ??= (async () => {
      await setStatus('stopping', context);
      server.close();
      server.closeAllConnections();
      await closeUpstream();
      await stopChild();
      await setStatus(finalStatus, context);
      log.info({ workload: name }, 'supervisor stopped');
      resolveDone();
    })();
    return stopping;
  };

  let startCredentials: (() => void) | undefined;
  try {
    if (config.remote_url) {
      const credentials = await createRemoteCredentials(config, {
        paths: deps.paths,
        env: deps.env,
        clock,
        log,
        secretValues: deps.secrets.values,
        onStatus: (status, context) => {
          if (!stopping) void setStatus(status, context);
        },
      });
      const proxy = new HttpProxy({ target: config.remote_url, headers: remoteHeaders(config, deps.secrets.values), credentials, log });
      closeUpstream = async () => {
        proxy.close();
        await credentials?.close?.();
      };
      handler = (req, res) => {
        // A request that fails in an unforeseen way is that request's 502; it must never end the supervisor.
        proxy.handle(req, res).catch((err: Error) => {
          log.error({ err: err.message }, 'request failed');
          if (!res.headersSent) res.writeHead(502).end();
          else res.destroy();
        });
      };
      if (credentials?.start) startCredentials = () => credentials.start!();
      log.info({ workload: name, url: workloadUrl(config, port) }, 'proxying the remote MCP server');
    } else {
      const spec = launchSpec({ ...config, port }, childEnvironment(deps.env, config.env, deps.secrets.env));
      const runtimes =
        deps.runtimes ??
        (config.runtime === 'sandbox' || config.runtime === 'container'
          ? hostRuntimes({ paths: deps.paths, env: deps.env, log, isThvEndpoint: thvEndpointCheck({ runConfigsDir: deps.paths.runConfigsDir, ownPorts: () => [port] }) })
          : defaultRuntimes());
      const runtime = await runtimes.get(config.runtime);
      stopChild = () => runtime.dispose();
      await prepareRuntime(runtime, spec, log);
      const started = startStdio(name, config, spec, runtime, { ...deps, pid }, clock, setStatus, (context) => void stop(context, 'error'));
      const { bridge, child } = started;
      stopChild = async () => {
        bridge.closeAll();
        await Promise.all([child.stop(), bridge.stopLegacyChild()]);
        await runtime.dispose().catch((err: Error) => log.warn({ err: err.message }, 'could not clean up after the MCP server'));
        await new ChildRecordStore(deps.paths).remove(name, pid).catch((err: Error) => log.warn({ err: err.message }, 'could not remove the child record'));
      };
      killChildNow = () => child.killNow();
      handler = (req, res) => {
        bridge.handle(req, res).then(
          (handled) => {
            if (!handled) res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
          },
          (err: Error) => {
            log.error({ err: err.message }, 'request failed');
            if (!res.headersSent) res.writeHead(500).end();
          },
        );
      };
      await started.ready;
    }
  } catch (err) {
    server.close();
    server.closeAllConnections();
    await stopChild().catch(() => undefined);
    await setStatus('error', describe(err));
    throw err;
  }
  // Whatever ends this process, the child's group must not outlive it.
  process.once('exit', () => killChildNow());
  // Credentials obtained in the background (an OAuth login can take minutes) set the status from
  // here on: `unauthenticated` with the URL while the user logs in, then `running`.
  if (startCredentials) startCredentials();
  else await setStatus('running');
  return { url: workloadUrl(config, port), port, done, stop };
}

/** What the runtime starts for a stdio run config. */
function launchSpec(config: RunConfig, env: Record<string, string>): LaunchSpec {
  if (!config.command && !config.image) throw new Error(`run config of ${config.name} has neither a command, an image nor a remote URL`);
  return {
    workload: config.name,
    ...(config.command ? { command: config.command } : {}),
    ...(config.image ? { image: config.image } : {}),
    ...(config.target_port ? { targetPort: config.target_port } : {}),
    // Labels name the workload for reconciliation; they never carry env or secret values.
    labels: { 'toolhive-group': config.group, 'toolhive-port': String(config.port ?? 0) },
    args: config.args,
    env,
    ...(config.cwd ? { cwd: config.cwd } : {}),
    transport: config.image ? config.transport : 'stdio',
    profile: config.permission_profile ?? NONE_PROFILE,
  };
}

/** Refuses a runtime that cannot work here, then lets it prepare (install, pull…) once. */
async function prepareRuntime(runtime: Runtime, spec: LaunchSpec, log: Logger): Promise<void> {
  const missing = await runtime.unavailable();
  if (missing) throw new ThvError('runtime_unavailable', missing.reason, { hint: missing.hint });
  await runtime.prepare(spec, (line) => log.info({ workload: spec.workload }, line));
}

function startStdio(
  name: string,
  config: RunConfig,
  spec: LaunchSpec,
  runtime: Runtime,
  deps: SupervisorDeps,
  clock: Clock,
  setStatus: (status: WorkloadStatus, context?: string) => Promise<unknown>,
  giveUp: (context: string) => void,
): { bridge: StdioBridge; child: SupervisedProcess; ready: Promise<number | undefined> } {
  const { log } = deps;
  let lastCrash = '';
  let crashCount = 0;
  // eslint-disable-next-line prefer-const -- the bridge and the child refer to each other
  let child: SupervisedProcess;
  const childOptions = {
    spec,
    runtime,
    clock,
    ...(deps.policy ? { policy: deps.policy } : {}),
    ...(deps.stopGraceMs !== undefined ? { stopGraceMs: deps.stopGraceMs } : {}),
  };
  const bridge = new StdioBridge({
    send: (line) => child.write(line),
    log,
    clock,
    limits: bridgeLimits(deps.env, log),
    // A dual-era server pins one era per stdio connection: 2025-era sessions get their own copy
    // of it when the first one serves 2026-07-28 (docs/workloads.md#protocol-eras).
    spawnLegacyChild: (hooks) => {
      const second = new SupervisedProcess({
        ...childOptions,
        // Its own name, where the runtime names what it starts (a container).
        spec: { ...spec, workload: `${spec.workload}-2025` },
        onStdout: hooks.onStdout,
        onStart: (childPid) => {
          log.info({ workload: name, pid: childPid }, 'MCP server process for 2025-era sessions started');
          hooks.onStarted();
        },
        onExit: (info) => hooks.onExited(info.reason),
        onGiveUp: (info) => hooks.onExited(info.reason),
      });
      second.start().catch((err: Error) => {
        log.error({ err: err.message }, 'the MCP server process for 2025-era sessions did not start');
        hooks.onExited(err.message);
      });
      process.once('exit', () => second.killNow());
      return { send: (line) => second.write(line), stop: () => second.stop() };
    },
  });
  setInterval(() => bridge.sweepIdleSessions(), 60_000).unref();
  // Recorded before the workload is reported ready, so a supervisor killed with SIGKILL from then on
  // leaves enough behind for reconciliation to stop its orphaned server (docs/workloads.md).
  const children = new ChildRecordStore(deps.paths);
  let recorded: Promise<void> = Promise.resolve();
  child = new SupervisedProcess({
    ...childOptions,
    onStdout: (chunk) => bridge.receiveStdout(chunk),
    onStart: (childPid, restarts) => {
      log.info({ workload: name, pid: childPid, restarts }, 'MCP server process started');
      if (childPid !== undefined) {
        recorded = children.write(name, childRecord(deps.pid ?? process.pid, childPid)).catch((err: Error) => log.error({ err: err.message }, 'could not record the MCP server process'));
      }
      bridge.childStarted();
      if (restarts > 0) void setStatus('running', `restarted after a crash (${crashCount} so far); last: ${lastCrash}`);
    },
    onExit: (info) => {
      crashCount++;
      lastCrash = `MCP server process ${info.reason} at ${new Date(clock.now()).toISOString()}`;
      log.error({ workload: name, restartInMs: info.restartInMs, consecutive: info.consecutiveCrashes }, `${lastCrash}; restarting`);
      bridge.childExited(info.reason);
      void setStatus('unhealthy', `${lastCrash}; restarting in ${info.restartInMs} ms`);
    },
    onGiveUp: (info) => {
      lastCrash = `MCP server process ${info.reason} at ${new Date(clock.now()).toISOString()}`;
      log.error({ workload: name }, `${lastCrash}; gave up after ${info.consecutiveCrashes} restarts in a row`);
      bridge.childExited(info.reason);
      giveUp(`gave up after ${info.consecutiveCrashes} crashes in a row; last: ${lastCrash}`);
    },
  });
  const output = markOutput(join(deps.paths.logsDir, `${name}.log`));
  const ready = child.startWithin(
    deps.startupGraceMs ?? startupGraceMs(deps.env, (variable, value) => log.warn(`ignoring ${variable}=${JSON.stringify(value)}: not a duration; using the default of 2s`)),
  ).then(
    async (childPid) => {
      await recorded;
      return childPid;
    },
    async (err: unknown) => {
      await recorded;
      if (!(err instanceof EarlyExitError)) throw err;
      // Stderr is the server's own output; values of its environment are hidden all the same.
      const hide = [...Object.values(config.env), ...Object.values(deps.secrets.env)];
      const tail = lastOutputLines(output(), hide);
      log.error({ workload: name }, `${err.message}; not restarting`);
      throw new ThvError('workload_failed', `${err.message}${tail ? `: ${tail}` : ''}`, {
        hint: `See \`thv logs ${name}\` for its output; fix the cause and run \`thv start ${name}\`, or remove it with \`thv rm ${name}\``,
      });
    },
  );
  return { bridge, child, ready };
}

/**
 * Bridge limits from the supervisor's environment (docs/workloads.md#limits): THV_BRIDGE_MAX_INFLIGHT,
 * THV_BRIDGE_MAX_SESSIONS, THV_BRIDGE_MAX_BODY_BYTES, THV_BRIDGE_MAX_CONCURRENT_BODIES.
 */
export function bridgeLimits(env: NodeJS.ProcessEnv, log?: Logger): Partial<BridgeLimits> {
  const names: Record<keyof BridgeLimits, string> = {
    maxInflight: 'THV_BRIDGE_MAX_INFLIGHT',
    maxSessions: 'THV_BRIDGE_MAX_SESSIONS',
    maxBodyBytes: 'THV_BRIDGE_MAX_BODY_BYTES',
    maxConcurrentBodies: 'THV_BRIDGE_MAX_CONCURRENT_BODIES',
  };
  const limits: Partial<BridgeLimits> = {};
  for (const [key, variable] of Object.entries(names) as [keyof BridgeLimits, string][]) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (Number.isSafeInteger(value) && value > 0) limits[key] = value;
    else log?.warn(`ignoring ${variable}=${JSON.stringify(raw)}: not a positive integer; using the default of ${DEFAULT_BRIDGE_LIMITS[key]}`);
  }
  return limits;
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

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
