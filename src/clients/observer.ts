import type { Paths } from '../core/paths.js';
import type { WorkloadManager } from '../workloads/manager.js';
import type { WorkloadObserver } from '../workloads/types.js';
import type { ClientChangeReport, ClientService } from './service.js';

/**
 * The observer a workload manager is built with, so registered clients' files follow its workloads
 * (docs/clients.md). The client service is loaded on the first start or stop only; what could not
 * be done goes to `onReport`, never into the workload operation.
 */
export function clientsObserver(options: { paths: Paths; env: NodeJS.ProcessEnv; workloads: () => WorkloadManager; onReport?: (report: ClientChangeReport) => void }): WorkloadObserver {
  let service: Promise<ClientService> | undefined;
  const clients = () =>
    (service ??= import('./service.js').then(({ ClientService }) => {
      const manager = options.workloads();
      return new ClientService({ paths: options.paths, env: options.env, groups: manager.groups, listWorkloads: (o) => manager.list(o) });
    }));
  return {
    started: async (workload) => options.onReport?.(await (await clients()).workloadStarted(workload)),
    stopped: async (workload) => options.onReport?.(await (await clients()).workloadStopped(workload)),
  };
}
