import type { Clock } from '../core/clock.js';
import type { LaunchSpec, Runtime } from '../runtimes/types.js';
import { SupervisedProcess, type SupervisedProcessOptions } from './supervised-process.js';
import { startupGraceMs } from './startup-window.js';
import type { SupervisorDeps, Upstream } from './supervisor-types.js';
import type { RunConfig, WorkloadStatus } from './types.js';

/** Writes the workload's status file (the supervisor's `setStatus`). */
export type SetStatus = (status: WorkloadStatus, context?: string) => Promise<unknown>;

type Deps = SupervisorDeps & { clock: Clock };

/**
 * Starts a workload's own server behind the supervisor's port: the stdio bridge (supervisor-stdio.ts)
 * or an HTTP container's proxy (supervisor-http.ts). `giveUp` ends the supervisor once the restart
 * policy gives up.
 */
export type LocalUpstreamStart = (
  name: string,
  config: RunConfig,
  port: number,
  deps: Deps & { pid: number },
  setStatus: SetStatus,
  giveUp: (context: string) => void,
) => Promise<Upstream>;

/** What every SupervisedProcess of a supervisor shares: what it starts, how, and the restart policy. */
export function childOptions(spec: LaunchSpec, runtime: Runtime, deps: Deps): Pick<SupervisedProcessOptions, 'spec' | 'runtime' | 'clock' | 'policy' | 'stopGraceMs'> {
  return {
    spec,
    runtime,
    clock: deps.clock,
    ...(deps.policy ? { policy: deps.policy } : {}),
    ...(deps.stopGraceMs !== undefined ? { stopGraceMs: deps.stopGraceMs } : {}),
  };
}

/** What the caller does on each start and crash of the child, besides the status and the log. */
export interface ChildHooks {
  onStdout(chunk: string): void;
  /** Before a restart is reported as `running`. */
  onStart(pid: number | undefined, restarts: number): void;
  /** After the crash is logged, before it is reported (as `unhealthy`, or by giving up). */
  onExit(reason: string): void;
}

/**
 * The workload's server (`what`: "MCP server process", "MCP server container") under the restart
 * policy, with its crashes told in the status file (docs/workloads.md): `unhealthy` while it waits
 * to restart, `running` again with the count and the last crash, and `giveUp` once the policy ends.
 */
export function supervisedChild(
  what: string,
  name: string,
  options: ReturnType<typeof childOptions>,
  deps: Deps,
  setStatus: SetStatus,
  giveUp: (context: string) => void,
  hooks: ChildHooks,
): SupervisedProcess {
  const { log, clock } = deps;
  let lastCrash = '';
  let crashCount = 0;
  const crashed = (reason: string) => `${what} ${reason} at ${new Date(clock.now()).toISOString()}`;
  return new SupervisedProcess({
    ...options,
    onStdout: hooks.onStdout,
    onStart: (pid, restarts) => {
      hooks.onStart(pid, restarts);
      if (restarts > 0) void setStatus('running', `restarted after a crash (${crashCount} so far); last: ${lastCrash}`);
    },
    onExit: (info) => {
      crashCount++;
      lastCrash = crashed(info.reason);
      log.error({ workload: name, restartInMs: info.restartInMs, consecutive: info.consecutiveCrashes }, `${lastCrash}; restarting`);
      hooks.onExit(info.reason);
      void setStatus('unhealthy', `${lastCrash}; restarting in ${info.restartInMs} ms`);
    },
    onGiveUp: (info) => {
      lastCrash = crashed(info.reason);
      log.error({ workload: name }, `${lastCrash}; gave up after ${info.consecutiveCrashes} restarts in a row`);
      hooks.onExit(info.reason);
      giveUp(`gave up after ${info.consecutiveCrashes} crashes in a row; last: ${lastCrash}`);
    },
  });
}

/** The start-up window of the supervisor's server: the deps' own, else TOOLHIVE_STARTUP_GRACE (warned about when invalid). */
export function startupWindowMs(deps: SupervisorDeps): number {
  return (
    deps.startupGraceMs ??
    startupGraceMs(deps.env, (variable, value) => deps.log.warn(`ignoring ${variable}=${JSON.stringify(value)}: not a duration; using the default of 2s`))
  );
}

/** Values of the server's environment, hidden from its output where that is quoted in a status. */
export function hiddenValues(config: { env: Record<string, string> }, deps: SupervisorDeps): string[] {
  return [...Object.values(config.env), ...Object.values(deps.secrets.env)];
}

/** What the user can do about a server that failed in its start-up window. */
export function startupFailureHint(name: string): string {
  return `See \`thv logs ${name}\` for its output; fix the cause and run \`thv start ${name}\`, or remove it with \`thv rm ${name}\``;
}
