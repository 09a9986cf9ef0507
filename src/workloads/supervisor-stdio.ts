import type http from 'node:http';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { Clock } from '../core/clock.js';
import { ThvError } from '../core/errors.js';
import { envLimit, type LimitVar } from '../core/env.js';
import { StdioBridge, DEFAULT_BRIDGE_LIMITS, type BridgeLimits } from '../transport/stdio-bridge.js';
import { defaultRuntimes, hostRuntimes } from '../runtimes/index.js';
import { thvEndpointCheck } from '../isolation/thv-endpoints.js';
import type { LaunchSpec, Runtime } from '../runtimes/types.js';
import { NONE_PROFILE } from '../isolation/profile.js';
import { EarlyExitError, SupervisedProcess } from './supervised-process.js';
import { lastOutputLines, markOutput } from './startup-window.js';
import { childOptions, hiddenValues, startupFailureHint, startupWindowMs, supervisedChild, type LocalUpstreamStart, type SetStatus } from './supervised-child.js';
import { childEnvironment } from './child-env.js';
import { ChildRecordStore, childRecord, otherEraRecordName } from './child-record.js';
import type { SupervisorDeps } from './supervisor-types.js';
import type { RunConfig } from './types.js';

/**
 * The local half of a supervisor (docs/workloads.md): the stdio server started through its runtime
 * behind the stdio ↔ HTTP bridge, restarted after crashes. Requests are bridged from the moment this
 * returns; `ready` settles when the server survived its start-up window (or failed within it).
 */
export const startStdioUpstream: LocalUpstreamStart = async (name, config, port, deps, setStatus, giveUp) => {
  const { log } = deps;
  const { spec, runtime } = await preparedRuntime(config, port, deps);
  const { bridge, child, ready } = startStdio(name, config, spec, runtime, deps, setStatus, giveUp);
  return {
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      bridge.handle(req, res).then(
        (handled) => {
          if (!handled) res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
        },
        (err: Error) => {
          log.error({ err: err.message }, 'request failed');
          if (!res.headersSent) res.writeHead(500).end();
        },
      );
    },
    close: async () => {
      bridge.closeAll();
      await Promise.all([child.stop(), bridge.stopLegacyChild()]);
      await runtime.dispose().catch((err: Error) => log.warn({ err: err.message }, 'could not clean up after the MCP server'));
      const records = new ChildRecordStore(deps.paths);
      for (const record of [name, otherEraRecordName(name)]) {
        await records.remove(record, deps.pid).catch((err: Error) => log.warn({ err: err.message }, 'could not remove the child record'));
      }
    },
    killNow: () => child.killNow(),
    ready,
  };
};

/** The launch spec of a local run config and its runtime, prepared (installed, pulled…) once. */
export async function preparedRuntime(config: RunConfig, port: number, deps: SupervisorDeps): Promise<{ spec: LaunchSpec; runtime: Runtime }> {
  const { log } = deps;
  const spec = launchSpec({ ...config, port }, childEnvironment(deps.env, config.env, deps.secrets.env));
  const runtimes =
    deps.runtimes ??
    (config.runtime === 'sandbox' || config.runtime === 'container'
      ? hostRuntimes({ paths: deps.paths, env: deps.env, log, isThvEndpoint: thvEndpointCheck({ runConfigsDir: deps.paths.runConfigsDir, ownPorts: () => [port] }) })
      : defaultRuntimes());
  const runtime = await runtimes.get(config.runtime);
  try {
    await prepareRuntime(runtime, spec, log);
  } catch (err) {
    await runtime.dispose().catch(() => undefined);
    throw err;
  }
  return { spec, runtime };
}

/** What the runtime starts for a local run config. */
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

/** The bridge and the supervised child, wired to each other and to the status file. */
function startStdio(
  name: string,
  config: RunConfig,
  spec: LaunchSpec,
  runtime: Runtime,
  deps: SupervisorDeps & { pid: number; clock: Clock },
  setStatus: SetStatus,
  giveUp: (context: string) => void,
): { bridge: StdioBridge; child: SupervisedProcess; ready: Promise<number | undefined> } {
  const { log, clock } = deps;
  // eslint-disable-next-line prefer-const -- the bridge and the child refer to each other
  let child: SupervisedProcess;
  const options = childOptions(spec, runtime, deps);
  const bridge = new StdioBridge({
    send: (line) => child.write(line),
    log,
    clock,
    limits: bridgeLimits(deps.env, log),
    // A dual-era server pins one era per stdio connection: 2025-era sessions get their own copy
    // of it when the first one serves 2026-07-28 (docs/workloads.md#protocol-eras).
    spawnLegacyChild: (hooks) => {
      const second = new SupervisedProcess({
        ...options,
        // Its own name, where the runtime names what it starts (a container).
        spec: { ...spec, workload: `${spec.workload}-2025` },
        onStdout: hooks.onStdout,
        onStart: (childPid) => {
          log.info({ workload: name, pid: childPid }, 'MCP server process for 2025-era sessions started');
          // Recorded like the first one, so that reconciliation stops it too if this supervisor is killed.
          if (childPid !== undefined) {
            void children.write(otherEraRecordName(name), childRecord(deps.pid, childPid)).catch((err: Error) => log.error({ err: err.message }, 'could not record the second MCP server process'));
          }
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
  child = supervisedChild('MCP server process', name, options, deps, setStatus, giveUp, {
    onStdout: (chunk) => bridge.receiveStdout(chunk),
    onStart: (childPid, restarts) => {
      log.info({ workload: name, pid: childPid, restarts }, 'MCP server process started');
      if (childPid !== undefined) {
        recorded = children.write(name, childRecord(deps.pid, childPid)).catch((err: Error) => log.error({ err: err.message }, 'could not record the MCP server process'));
      }
      bridge.childStarted();
    },
    onExit: (reason) => bridge.childExited(reason),
  });
  const output = markOutput(join(deps.paths.logsDir, `${name}.log`));
  const ready = child.startWithin(startupWindowMs(deps)).then(
    async (childPid) => {
      await recorded;
      return childPid;
    },
    async (err: unknown) => {
      await recorded;
      if (!(err instanceof EarlyExitError)) throw err;
      // Stderr is the server's own output; values of its environment are hidden all the same.
      const tail = lastOutputLines(output(), hiddenValues(config, deps));
      log.error({ workload: name }, `${err.message}; not restarting`);
      throw new ThvError('workload_failed', `${err.message}${tail ? `: ${tail}` : ''}`, {
        hint: startupFailureHint(name),
      });
    },
  );
  return { bridge, child, ready };
}

/** Bridge limits from the supervisor's environment (docs/workloads.md#limits; the variables are read in src/core/env.ts). */
export function bridgeLimits(env: NodeJS.ProcessEnv, log?: Logger): Partial<BridgeLimits> {
  const names: Record<keyof BridgeLimits, LimitVar> = {
    maxInflight: 'THV_BRIDGE_MAX_INFLIGHT',
    maxSessions: 'THV_BRIDGE_MAX_SESSIONS',
    maxBodyBytes: 'THV_BRIDGE_MAX_BODY_BYTES',
    maxConcurrentBodies: 'THV_BRIDGE_MAX_CONCURRENT_BODIES',
  };
  const limits: Partial<BridgeLimits> = {};
  for (const [key, variable] of Object.entries(names) as [keyof BridgeLimits, LimitVar][]) {
    const value = envLimit(env, variable, (name, raw, expected) => log?.warn(`ignoring ${name}=${JSON.stringify(raw)}: expected ${expected}; using the default of ${DEFAULT_BRIDGE_LIMITS[key]}`));
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}