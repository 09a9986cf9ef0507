import type { Paths } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import type { RegistryService } from '../registry/service.js';
import type { StaleMarker } from '../registry/types.js';
import { WorkloadManager } from './manager.js';
import type { WorkloadObserver } from './types.js';

export interface WorkloadServiceOptions {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  /** A person is at the terminal: a secrets password prompt or a registry login may be shown. */
  interactive: boolean;
  /** The API passes its long-lived registry service; the CLI gets a fresh one on first use. */
  registry?: RegistryService;
  /** Told when a registry lookup was answered from a stale cache (never silently: docs/registry.md#caching-what-a-failing-registry-looks-like). */
  onStale?: (stale: StaleMarker) => void;
  clock?: Clock;
  /**
   * false: the workloads' supervisors never open a browser for a remote OAuth login; the workload
   * reports `unauthenticated` with the URL instead (the REST API: docs/api.md#safety). Default true.
   */
  openBrowser?: boolean;
  /** Told after starts and stops; built above this layer (client config files, docs/clients.md). */
  observer?: WorkloadObserver;
  /** Progress of slow steps before a workload starts (installing a package for the sandbox). */
  onProgress?: (line: string) => void;
}

/** The one way the CLI and the REST API build the workload service, so both behave the same. */
export function createWorkloadManager(options: WorkloadServiceOptions): WorkloadManager {
  let registry = options.registry;
  return new WorkloadManager({
    paths: options.paths,
    env: options.env,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.openBrowser === false ? { supervisorEnv: { ...options.env, TOOLHIVE_NON_INTERACTIVE: '1' } } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    getServer: async (name) => {
      if (!registry) {
        const { RegistryService } = await import('../registry/service.js');
        registry = new RegistryService({ paths: options.paths, env: options.env, interactive: options.interactive });
      }
      const { server, stale } = await registry.getServer(name);
      if (stale) options.onStale?.(stale);
      return server;
    },
    openSecrets: async () => {
      const [{ openSecretsProvider }, { ConfigStore }] = await Promise.all([import('../secrets/index.js'), import('../config/store.js')]);
      const config = await new ConfigStore(options.paths.configFile).load();
      return openSecretsProvider({ paths: options.paths, env: options.env, config, interactive: options.interactive });
    },
  });
}
