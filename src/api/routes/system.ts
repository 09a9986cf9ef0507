import type { FastifyInstance } from 'fastify';
import { THV_VERSION } from '../../core/version.js';
import type { ApiDeps } from '../deps.js';
import { errorResponses } from '../schemas.js';

export function registerSystemRoutes(app: FastifyInstance, _deps: ApiDeps): void {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness probe',
        response: { 204: { type: 'null', description: 'the server is up' }, ...errorResponses },
      },
    },
    async (_request, reply) => reply.status(204).send(),
  );
  app.get(
    '/api/v1beta/version',
    {
      schema: {
        tags: ['system'],
        summary: 'The version of thv serving this API',
        response: {
          200: { type: 'object', properties: { version: { type: 'string' } }, required: ['version'] },
          ...errorResponses,
        },
      },
    },
    async () => ({ version: THV_VERSION }),
  );
}
