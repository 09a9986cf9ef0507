import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Paths } from '../core/paths.js';
import type { RegistryService } from '../registry/service.js';
import { createAppServices, type AppServices } from '../app/services.js';

/**
 * What the routes may touch. The services are the CLI's own (no logic in handlers: docs/architecture.md#how-a-request-flows); the
 * registry service is one long-lived, non-interactive instance so its in-memory cache is shared by
 * every request.
 */
export interface ApiDeps {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  registry: RegistryService;
  /** Opens a URL for the user; only ever called when a client asks (`{"open_browser": true}`). */
  opener?: (url: string) => Promise<void>;
  logger?: Logger;
  clock?: Clock;
  fetch?: typeof fetch;
  /** The composition root (one WorkloadManager, one secrets service…); built from the fields above when absent. */
  app?: AppServices;
}

/** What route modules receive: the deps with the services of this server. */
export type RouteDeps = ApiDeps & { app: AppServices };

/** The deps with their services: the given ones, else the API's own. */
export function routeDeps(deps: ApiDeps): RouteDeps {
  return { ...deps, app: deps.app ?? apiServices(deps) };
}

/** The API's services: never interactive, never opening a browser for a workload's OAuth login. */
export function apiServices(deps: Omit<ApiDeps, 'registry' | 'app'> & { registry?: RegistryService }): AppServices {
  return createAppServices({
    paths: deps.paths,
    env: deps.env,
    interactive: false,
    openBrowser: false,
    ...(deps.clock ? { clock: deps.clock } : {}),
    secretsListHint: 'GET /api/v1beta/secrets/default/keys to see the names.',
    // Registered AI clients follow the workloads (docs/clients.md); what they could not do goes to the log.
    onClientReport: (report) => {
      for (const problem of report.problems) deps.logger?.warn({ client: problem.client, file: problem.file }, problem.message);
    },
    registry: { ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(deps.clock ? { clock: deps.clock } : {}) },
    ...(deps.registry ? { registryService: deps.registry } : {}),
  });
}
