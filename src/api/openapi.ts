import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { THV_VERSION } from '../core/version.js';

/**
 * The OpenAPI 3 document is generated from the route schemas (the same objects Fastify validates
 * and serialises with); it must be registered before any route so every route is seen.
 */
export interface RouteRecord {
  method: string;
  url: string;
  hidden: boolean;
}

const routesByApp = new WeakMap<FastifyInstance, RouteRecord[]>();

/** Every route the app registered (HEAD twins excluded), so tests can prove the document lists them. */
export function registeredRoutes(app: FastifyInstance): RouteRecord[] {
  return routesByApp.get(app) ?? [];
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const routes: RouteRecord[] = [];
  routesByApp.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = Boolean((route.schema as { hide?: boolean } | undefined)?.hide);
    for (const method of methods) if (method !== 'HEAD') routes.push({ method, url: route.url, hidden });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'ToolHive (TypeScript) API',
        description: 'The local REST API served by `thv serve`. Errors are `{code, message}`.',
        version: THV_VERSION,
      },
      tags: [
        { name: 'system', description: 'Health, version and this document' },
        { name: 'registry', description: 'The MCP server registry' },
        { name: 'registry-auth', description: 'Signing the API server in to a protected registry' },
        { name: 'workloads', description: 'MCP servers run by thv' },
        { name: 'groups', description: 'Groups of workloads' },
      ],
    },
  });
  app.get(
    '/api/openapi.json',
    {
      schema: {
        tags: ['system'],
        summary: 'This OpenAPI 3 document',
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => openApiDocument(app),
  );
}

export function openApiDocument(app: FastifyInstance): Record<string, unknown> {
  return app.swagger() as unknown as Record<string, unknown>;
}
