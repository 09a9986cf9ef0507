import type { Clock } from '../core/clock.js';
import type { Paths } from '../core/paths.js';
import type { ConfigStore } from '../config/store.js';
import type { SecretsService } from '../secrets/service.js';
import type { RegistryService, RegistryServiceDeps } from '../registry/service.js';
import type { StaleMarker } from '../registry/types.js';
import type { RuntimeRegistry } from '../runtimes/index.js';
import type { WorkloadManager } from '../workloads/manager.js';
import type { GroupService } from '../workloads/group-service.js';
import type { ClientChangeReport, ClientService } from '../clients/service.js';

export interface AppOptions {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  /** A person is at the terminal: a secrets password prompt or a registry login may be shown. */
  interactive: boolean;
  /**
   * false: the workloads' supervisors never open a browser for a remote OAuth login; the workload
   * reports `unauthenticated` with the URL instead (the REST API). Default true.
   */
  openBrowser?: boolean;
  clock?: Clock;
  /** How this surface tells the user to see the secret names. */
  secretsListHint?: string;
  /** Registry service options of this surface (progress line, where the OAuth URL goes…). */
  registry?: Omit<RegistryServiceDeps, 'paths' | 'env' | 'interactive' | 'secrets'>;
  /** A registry service built elsewhere (tests); used as is. */
  registryService?: RegistryService;
  /** Told when a registry lookup for `thv run <name>` was answered from a stale cache (never silently). */
  onStale?: (stale: StaleMarker) => void;
  /** Progress of slow steps before a workload starts (installing a package for the sandbox). */
  onProgress?: (line: string) => void;
  /**
   * What registered AI clients' config files could not follow when a workload started or stopped
   * (docs/clients.md); never a failed workload operation.
   */
  onClientReport?: (report: ClientChangeReport) => void;
}

/**
 * The composition root (docs/architecture.md, "Services and the composition root"): every service
 * of this process, each built on first use and only once, wired to the others. The CLI builds one
 * per invocation, the REST API one per server; commands and routes only parse input, call a
 * service and render the result. Heavy modules are imported on first use so `thv registry list`
 * loads only what it needs.
 */
export interface AppServices {
  readonly paths: Paths;
  readonly env: NodeJS.ProcessEnv;
  readonly interactive: boolean;
  config(): Promise<ConfigStore>;
  secrets(): Promise<SecretsService>;
  registry(): Promise<RegistryService>;
  workloads(): Promise<WorkloadManager>;
  groups(): Promise<GroupService>;
  clients(): Promise<ClientService>;
  runtimes(): Promise<RuntimeRegistry>;
}

export function createAppServices(options: AppOptions): AppServices {
  const { paths, env, interactive } = options;
  const once = <T>(build: () => Promise<T>): (() => Promise<T>) => {
    let built: Promise<T> | undefined;
    return () => {
      built ??= build();
      // A failed build (a config file that does not parse…) is tried again by the next caller.
      built.catch(() => (built = undefined));
      return built;
    };
  };

  const config = once(async () => new (await import('../config/store.js')).ConfigStore(paths.configFile));

  const secrets = once(async () => {
    const { SecretsService } = await import('../secrets/service.js');
    return new SecretsService({ paths, env, config: await config(), interactive, listHint: options.secretsListHint ?? 'Run `thv secret list` to see the names.' });
  });

  const registry = once(async () => {
    if (options.registryService) return options.registryService;
    const { RegistryService } = await import('../registry/service.js');
    return new RegistryService({
      ...options.registry,
      paths,
      env,
      interactive,
      ...(options.clock && !options.registry?.clock ? { clock: options.clock } : {}),
      secrets: async () => (await secrets()).provider(),
    });
  });

  const runtimes = once(async () => {
    const [{ hostRuntimes }, { log }] = await Promise.all([import('../runtimes/index.js'), import('../core/log.js')]);
    return hostRuntimes({ paths, env, log: log() });
  });

  const workloads = once(async () => {
    const [{ WorkloadManager }, { clientsObserver }] = await Promise.all([import('../workloads/manager.js'), import('../clients/observer.js')]);
    const manager: InstanceType<typeof WorkloadManager> = new WorkloadManager({
      paths,
      env,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      runtimes: await runtimes(),
      // Registered AI clients follow the workloads (docs/clients.md).
      observer: clientsObserver({ paths, env, workloads: () => manager, ...(options.onClientReport ? { onReport: options.onClientReport } : {}) }),
      ...(options.openBrowser === false ? { supervisorEnv: { ...env, TOOLHIVE_NON_INTERACTIVE: '1' } } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      getServer: async (name) => {
        const { server, stale } = await (await registry()).getServer(name);
        if (stale) options.onStale?.(stale);
        return server;
      },
      openSecrets: async () => (await secrets()).provider(),
    });
    return manager;
  });

  const groups = once(async () => new (await import('../workloads/group-service.js')).GroupService(await workloads()));

  const clients = once(async () => {
    const [{ ClientService }, manager] = await Promise.all([import('../clients/service.js'), workloads()]);
    return new ClientService({ paths, env, groups: manager.groups, listWorkloads: (o) => manager.list(o) });
  });


  return { paths, env, interactive, config, secrets, registry, workloads, groups, clients, runtimes };
}
