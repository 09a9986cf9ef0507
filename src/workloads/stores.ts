import type { Paths } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { log as defaultLog } from '../core/log.js';
import { RunConfigStore } from './run-config-store.js';
import { StatusStore } from './status-store.js';
import { ChildRecordStore } from './child-record.js';
import { Reconciler } from './reconcile.js';
import { removeWorkloadContainers, type ContainerDeps } from './containers.js';

/**
 * The workload files and the reconciler that keeps them true: what `thv list` needs, and all of it
 * the start-up fast path loads for it (docs/architecture.md#start-up).
 */
export interface WorkloadStores {
  readonly deps: { readonly env: NodeJS.ProcessEnv };
  readonly clock: Clock;
  readonly runConfigs: RunConfigStore;
  readonly statuses: StatusStore;
  readonly children: ChildRecordStore;
  readonly reconciler: Reconciler;
  log(): Logger;
  containerDeps(): ContainerDeps;
}

export function createWorkloadStores(deps: { paths: Paths; env: NodeJS.ProcessEnv; clock?: Clock; log?: Logger; orphanGraceMs?: number }): WorkloadStores {
  const clock = deps.clock ?? systemClock;
  const log = () => deps.log ?? defaultLog();
  const runConfigs = new RunConfigStore(deps.paths);
  const statuses = new StatusStore(deps.paths, clock);
  const children = new ChildRecordStore(deps.paths);
  const containerDeps = (): ContainerDeps => ({ env: deps.env, paths: deps.paths, log });
  return {
    deps,
    clock,
    runConfigs,
    statuses,
    children,
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
    containerDeps,
  };
}
