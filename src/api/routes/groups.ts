import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../schemas.js';
import { NAME_PATTERN_SOURCE } from '../../core/names.js';
import type { RouteDeps } from '../deps.js';

export const GROUPS_PREFIX = '/api/v1beta/groups';

const groupSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    registered_clients: { type: 'array', items: { type: 'string' } },
    created_at: { type: 'string' },
    workloads: { type: 'array', items: { type: 'string' } },
    problem: { type: 'string', description: 'why this group file could not be read (the rest of the list is still served)' },
  },
  required: ['name', 'workloads'],
} as const;

const nameParams = { type: 'object', properties: { name: { type: 'string', pattern: NAME_PATTERN_SOURCE } }, required: ['name'] } as const;

/** `/api/v1beta/groups`: the CLI's `thv group` commands over HTTP, through the same service. */
export function registerGroupRoutes(app: FastifyInstance, deps: RouteDeps): void {
  // The same WorkloadManager as the workload routes: one per server.
  const groups = () => deps.app.groups();
  const tags = ['groups'];

  app.get(
    GROUPS_PREFIX,
    {
      schema: {
        tags,
        summary: 'List groups with their workloads',
        response: { 200: { type: 'object', properties: { groups: { type: 'array', items: groupSchema } }, required: ['groups'] }, ...errorResponses },
      },
    },
    async () => ({ groups: await (await groups()).list() }),
  );

  app.post<{ Body: { name: string } }>(
    GROUPS_PREFIX,
    {
      schema: {
        tags,
        summary: 'Create a group',
        body: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', pattern: NAME_PATTERN_SOURCE } }, required: ['name'] },
        response: { 201: groupSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const group = await (await groups()).create(request.body.name);
      return reply.status(201).send({ ...group, workloads: [] });
    },
  );

  app.get<{ Params: { name: string } }>(
    `${GROUPS_PREFIX}/:name`,
    { schema: { tags, summary: 'One group', params: nameParams, response: { 200: groupSchema, ...errorResponses } } },
    async (request) => (await groups()).get(request.params.name),
  );

  app.delete<{ Params: { name: string }; Querystring: { 'with-workloads'?: boolean } }>(
    `${GROUPS_PREFIX}/:name`,
    {
      schema: {
        tags,
        summary: 'Remove a group; its workloads move to the default group unless with-workloads=true',
        params: nameParams,
        querystring: { type: 'object', properties: { 'with-workloads': { type: 'boolean' } } },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await (await groups()).remove(request.params.name, { withWorkloads: Boolean(request.query['with-workloads']) });
      return reply.status(204).send();
    },
  );
}
