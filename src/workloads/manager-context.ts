import { join } from 'node:path';
import type { Paths } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { log as defaultLog } from '../core/log.js';
import { checkName } from '../core/names.js';
import type { CatalogServer } from '../registry/types.js';
import type { SecretsProvider } from '../secrets/provider.js';
import { hostRuntimes, type RuntimeRegistry } from '../runtimes/index.js';
import { RunConfigStore } from './run-config-store.js';
import { StatusStore } from './status-store.js';
import { GroupStore } from './groups.js';
import { ChildRecordStore } from './child-record.js';
import { WorkloadCredentials } from './credentials.js';
import { Reconciler } from './reconcile.js';
import { removeWorkloadContainers, type ContainerDeps } from './containers.js';
import type { WorkloadObserver } from './types.js';

export interface WorkloadManagerDeps {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  clock?: Clock;
  log?: Logger;
  /** Registry lookup for `thv run <name>`; errors (auth included) propagate unchanged. */
  getServer?: (name: string) => Promise<CatalogServer>;
  /** The raw secrets provider, opened only when a workload has secrets. */
  openSecrets?: () => Promise<SecretsProvider>;
  supervisorEntry?: string;
  /** The detached supervisors' environment, when it differs from `env` (the REST API adds TOOLHIVE_NON_INTERACTIVE). */
  supervisorEnv?: NodeJS.ProcessEnv;
  /** How long `stop` waits for a supervisor before killing it. */
  stopTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL for the server of a supervisor that died. */
  orphanGraceMs?: number;
  /** Told after a start and a stop (client config files follow workloads through it). */
  observer?: WorkloadObserver;
  /** RuntimeKind → Runtime, for the availability check of `thv run` (default: this host's). */
  runtimes?: RuntimeRegistry;
  /** Progress of slow steps before a start (installing a package for the sandbox). */
  onProgress?: (line: string) => void;
}

/**
 * What the parts of the workload service share (docs/architecture.md#services-and-the-composition-root):
 * the stores, the credentials, the reconciler and the effects. Built once per `WorkloadManager`.
 */
export interface ManagerContext {
  readonly deps: WorkloadManagerDeps;
  readonly clock: Clock;
  readonly runConfigs: RunConfigStore;
  readonly statuses: StatusStore;
  readonly groups: GroupStore;
  readonly children: ChildRecordStore;
  readonly credentials: WorkloadCredentials;
  readonly reconciler: Reconciler;
  log(): Logger;
  /** The runtimes this host offers; built on first use (only `thv run` of a local server needs one). */
  runtimes(): RuntimeRegistry;
  containerDeps(): ContainerDeps;
  logFile(name: string): string;
}

export function createManagerContext(deps: WorkloadManagerDeps): ManagerContext {
  const clock = deps.clock ?? systemClock;
  const log = () => deps.log ?? defaultLog();
  const runConfigs = new RunConfigStore(deps.paths);
  const statuses = new StatusStore(deps.paths, clock);
  const children = new ChildRecordStore(deps.paths);
  const containerDeps = (): ContainerDeps => ({ env: deps.env, paths: deps.paths, log });
  let runtimeRegistry: RuntimeRegistry | undefined;
  return {
    deps,
    clock,
    runConfigs,
    statuses,
    groups: new GroupStore(deps.paths, clock),
    children,
    credentials: new WorkloadCredentials(deps.openSecrets, log),
    reconciler: new Reconciler({
      statuses,
      children,
      clock,
      log,
      ...(deps.orphanGraceMs !== undefined ? { orphanGraceMs: deps.orphanGraceMs } : {}),
      // A container outlives a supervisor killed with SIGKILL; nothing else would ever stop it.
      onDeadSupervisor: async (name) => {
        if ((await runConfigs.read(name).catch(() => undefined))?.runtime === 'container') await removeWorkloadContainers(containerDeps(), name);
      },
    }),
    log,
    runtimes: () => (runtimeRegistry ??= deps.runtimes ?? hostRuntimes({ paths: deps.paths, env: deps.env, log: log() })),
    containerDeps,
    logFile: (name) => join(deps.paths.logsDir, `${checkName('workload', name)}.log`),
  };
}
