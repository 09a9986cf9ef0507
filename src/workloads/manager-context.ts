import { join } from 'node:path';
import type { Paths } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { checkName } from '../core/names.js';
import type { CatalogServer } from '../registry/types.js';
import type { SecretsProvider } from '../secrets/provider.js';
import { hostRuntimes, type RuntimeRegistry } from '../runtimes/index.js';
import { GroupStore } from './groups.js';
import { WorkloadCredentials } from './credentials.js';
import type { WorkloadObserver } from './types.js';
import { createWorkloadStores, type WorkloadStores } from './stores.js';

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
export interface ManagerContext extends WorkloadStores {
  readonly deps: WorkloadManagerDeps;
  readonly groups: GroupStore;
  readonly credentials: WorkloadCredentials;
  /** The runtimes this host offers; built on first use (only `thv run` of a local server needs one). */
  runtimes(): RuntimeRegistry;
  logFile(name: string): string;
}

export function createManagerContext(deps: WorkloadManagerDeps): ManagerContext {
  const stores = createWorkloadStores(deps);
  let runtimeRegistry: RuntimeRegistry | undefined;
  return {
    ...stores,
    deps,
    groups: new GroupStore(deps.paths, stores.clock),
    credentials: new WorkloadCredentials(deps.openSecrets, stores.log),
    runtimes: () => (runtimeRegistry ??= deps.runtimes ?? hostRuntimes({ paths: deps.paths, env: deps.env, log: stores.log() })),
    logFile: (name) => join(deps.paths.logsDir, `${checkName('workload', name)}.log`),
  };
}
