import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Paths } from '../core/paths.js';
import type { RegistryService } from '../registry/service.js';

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
}
