import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../schemas.js';
import { CLIENT_IDS } from '../../clients/catalog.js';
import type { RouteDeps } from '../deps.js';

export const CLIENTS_PREFIX = '/api/v1beta/clients';
export const DISCOVERY_CLIENTS_PATH = '/api/v1beta/discovery/clients';

const clientName = { type: 'string', description: `one of: ${CLIENT_IDS.join(', ')}` } as const;
const groupList = { type: 'array', items: { type: 'string' }, description: 'groups whose workloads the client gets (default: default)' } as const;
const clientResponse = { type: 'object', properties: { name: { type: 'string' }, groups: { type: 'array', items: { type: 'string' } } }, required: ['name'] } as const;
const registeredClient = { type: 'object', properties: { name: { type: 'string' }, groups: { type: 'array', items: { type: 'string' } } }, required: ['name', 'groups'] } as const;
const clientStatus = {
  type: 'object',
  properties: {
    client_type: { type: 'string' },
    installed: { type: 'boolean', description: 'the client keeps its config folder on this machine' },
    registered: { type: 'boolean', description: 'registered with thv for at least one group' },
    supports_skills: { type: 'boolean' },
    supports_plugins: { type: 'boolean' },
  },
  required: ['client_type', 'installed', 'registered'],
} as const;
const nameParams = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;

/** `/api/v1beta/clients` and `/discovery/clients`: `thv client …` over HTTP, in ToolHive's shapes. */
export function registerClientRoutes(app: FastifyInstance, deps: RouteDeps): void {
  // One client service and one WorkloadManager per server (apiServices).
  const clients = () => deps.app.clients();
  const tags = ['clients'];

  app.get(
    DISCOVERY_CLIENTS_PATH,
    {
      schema: {
        tags: ['discovery'],
        summary: 'Every supported client: installed here? registered?',
        response: { 200: { type: 'object', properties: { clients: { type: 'array', items: clientStatus } }, required: ['clients'] }, ...errorResponses },
      },
    },
    async () => ({ clients: await (await clients()).status() }),
  );

  app.get(
    CLIENTS_PREFIX,
    { schema: { tags, summary: 'The registered clients and their groups', response: { 200: { type: 'array', items: registeredClient }, ...errorResponses } } },
    async () => (await clients()).listRegistered(),
  );

  app.post<{ Body: { name: string; groups?: string[] } }>(
    CLIENTS_PREFIX,
    {
      schema: {
        tags,
        summary: "Register a client; the groups' running workloads are written to its config",
        body: { type: 'object', properties: { name: clientName, groups: groupList }, required: ['name'] },
        response: { 200: clientResponse, ...errorResponses },
      },
    },
    async (request) => {
      const groups = request.body.groups?.length ? request.body.groups : ['default'];
      await (await clients()).register([request.body.name], groups);
      return { name: request.body.name, groups };
    },
  );

  app.post<{ Body: { names: string[]; groups?: string[] } }>(
    `${CLIENTS_PREFIX}/register`,
    {
      schema: {
        tags,
        summary: 'Register several clients',
        body: { type: 'object', properties: { names: { type: 'array', items: clientName, minItems: 1 }, groups: groupList }, required: ['names'] },
        response: { 200: { type: 'array', items: clientResponse }, ...errorResponses },
      },
    },
    async (request) => {
      await (await clients()).register(request.body.names, request.body.groups ?? []);
      return request.body.names.map((name) => ({ name }));
    },
  );

  app.post<{ Body: { names: string[]; groups?: string[] } }>(
    `${CLIENTS_PREFIX}/unregister`,
    {
      schema: {
        tags,
        summary: "Unregister several clients (from the given groups, or from all); thv's entries are removed",
        body: { type: 'object', properties: { names: { type: 'array', items: clientName, minItems: 1 }, groups: groupList }, required: ['names'] },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await (await clients()).remove(request.body.names, request.body.groups ?? []);
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: { name: string } }>(
    `${CLIENTS_PREFIX}/:name`,
    { schema: { tags, summary: 'Unregister a client from every group', params: nameParams, response: { 204: { type: 'null' }, ...errorResponses } } },
    async (request, reply) => {
      await (await clients()).remove([request.params.name]);
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: { name: string; group: string } }>(
    `${CLIENTS_PREFIX}/:name/groups/:group`,
    {
      schema: {
        tags,
        summary: 'Unregister a client from one group',
        params: { type: 'object', properties: { name: { type: 'string' }, group: { type: 'string' } }, required: ['name', 'group'] },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await (await clients()).remove([request.params.name], [request.params.group]);
      return reply.status(204).send();
    },
  );
}
