import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';

/**
 * Routes of ToolHive's API that thv does not have (skills, plugins, upgrades, the registry server
 * API, adding or removing registries). They answer 501 `{code: "not_implemented", message}` so a
 * client such as ToolHive Studio can tell "not here" from "not found" (docs/api.md#toolhive-studio).
 */
const NOT_IMPLEMENTED: Array<[method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string]> = [
  ['GET', '/api/v1beta/skills'],
  ['POST', '/api/v1beta/skills'],
  ['GET', '/api/v1beta/skills/builds'],
  ['POST', '/api/v1beta/skills/build'],
  ['DELETE', '/api/v1beta/skills/builds/:tag'],
  ['GET', '/api/v1beta/skills/content'],
  ['POST', '/api/v1beta/skills/push'],
  ['POST', '/api/v1beta/skills/sync'],
  ['POST', '/api/v1beta/skills/upgrade'],
  ['POST', '/api/v1beta/skills/validate'],
  ['GET', '/api/v1beta/skills/:name'],
  ['DELETE', '/api/v1beta/skills/:name'],
  ['GET', '/api/v1beta/plugins'],
  ['POST', '/api/v1beta/plugins'],
  ['GET', '/api/v1beta/plugins/builds'],
  ['POST', '/api/v1beta/plugins/build'],
  ['DELETE', '/api/v1beta/plugins/builds/:tag'],
  ['GET', '/api/v1beta/plugins/content'],
  ['POST', '/api/v1beta/plugins/push'],
  ['POST', '/api/v1beta/plugins/sync'],
  ['POST', '/api/v1beta/plugins/upgrade'],
  ['POST', '/api/v1beta/plugins/validate'],
  ['GET', '/api/v1beta/plugins/:name'],
  ['DELETE', '/api/v1beta/plugins/:name'],
  ['GET', '/api/v1beta/workloads/upgrade-check'],
  ['GET', '/api/v1beta/workloads/:name/upgrade-check'],
  ['POST', '/api/v1beta/workloads/:name/upgrade'],
  ['POST', '/api/v1beta/registry'],
  ['DELETE', '/api/v1beta/registry/:name'],
  ['GET', '/registry/:registryName/v0.1/servers'],
  ['GET', '/registry/:registryName/v0.1/servers/:serverName/versions/latest'],
  ['GET', '/registry/:registryName/v0.1/x/dev.toolhive/skills'],
  ['GET', '/registry/:registryName/v0.1/x/dev.toolhive/skills/:namespace/:skillName'],
  ['GET', '/registry/:registryName/v0.1/x/dev.toolhive/plugins'],
  ['GET', '/registry/:registryName/v0.1/x/dev.toolhive/plugins/:namespace/:pluginName'],
];

export function registerNotImplementedRoutes(app: FastifyInstance): void {
  for (const [method, url] of NOT_IMPLEMENTED) {
    // A route another module already serves (e.g. one added later) wins over the placeholder.
    if (app.hasRoute({ method, url })) continue;
    app.route({
      method,
      url,
      schema: { hide: true },
      handler: async () => {
        throw new ApiError(501, 'not_implemented', `${method} ${url.replace(/:(\w+)/g, '{$1}')} is not implemented by thv`);
      },
    });
  }
}
