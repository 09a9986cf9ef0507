import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';
import { registerSystemRoutes } from './system.js';
import { registerRegistryRoutes } from './registry.js';
import { registerRegistryAuthRoutes } from './registry-auth.js';
import { registerWorkloadRoutes } from './workloads.js';
import { registerGroupRoutes } from './groups.js';
import { registerSecretRoutes } from './secrets.js';
import { registerClientRoutes } from './clients.js';
import { registerNotImplementedRoutes } from './not-implemented.js';
import { registerEventRoutes } from './events.js';

export type RouteModule = (app: FastifyInstance, deps: RouteDeps) => void | Promise<void>;

/** Every route module of the API, one line each; the OpenAPI document is built from these. */
export const ROUTE_MODULES: RouteModule[] = [
  registerSystemRoutes,
  registerRegistryAuthRoutes,
  registerRegistryRoutes,
  registerWorkloadRoutes,
  registerGroupRoutes,
  registerSecretRoutes,
  registerClientRoutes,
  registerEventRoutes,
  // Last: placeholders only for what no module above serves.
  registerNotImplementedRoutes,
];
