import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';
import { DEFAULT_LOG_TAIL_BYTES, MAX_LOG_TAIL_BYTES, readLogTail } from '../log-tail.js';
import { errorResponses } from '../schemas.js';
import { badRequest } from '../../core/errors.js';
import { NAME_PATTERN_SOURCE } from '../../core/names.js';
import type { WorkloadManager } from '../../workloads/manager.js';
import { createBodySchema, editBodySchema, toCreateRequestShape, toExportShape, toRunRequest, type WorkloadBody } from '../workload-bodies.js';

export const WORKLOADS_PREFIX = '/api/v1beta/workloads';

const statusEnum = ['starting', 'running', 'stopping', 'stopped', 'error', 'unhealthy', 'removing', 'unknown', 'unauthenticated', 'auth_retrying'];

export const workloadSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    package: { type: 'string', description: 'what runs: a package, registry name, command or remote URL' },
    url: { type: 'string', description: 'the URL an MCP client connects to' },
    port: { type: 'integer' },
    tool_type: { type: 'string' },
    transport_type: { type: 'string', enum: ['stdio', 'sse', 'streamable-http'] },
    proxy_mode: { type: 'string', enum: ['streamable-http', 'sse'] },
    status: { type: 'string', enum: statusEnum },
    status_context: { type: 'string', description: 'why the workload is in this status (never secrets)' },
    created_at: { type: 'string' },
    group: { type: 'string' },
    remote: { type: 'boolean' },
    process_id: { type: 'integer', description: 'pid of the supervisor, 0 when none runs' },
    runtime: { type: 'string', enum: ['none', 'sandbox', 'container'], description: 'how the server runs (docs/isolation.md)' },
    isolation: { type: 'string', description: 'the isolation in force, e.g. "sandbox (bubblewrap), profile none (no network)"' },
    permission_profile: { type: 'object', additionalProperties: true, description: 'the resolved permission profile (ToolHive format)' },
    login_url: { type: 'string', description: 'a remote OAuth login waits for the user: open this authorization URL in a browser' },
  },
  required: ['name', 'url', 'status', 'status_context', 'group'],
} as const;

const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', pattern: NAME_PATTERN_SOURCE } },
  required: ['name'],
} as const;

const bulkBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Either names or group.',
  properties: { names: { type: 'array', items: { type: 'string', pattern: NAME_PATTERN_SOURCE }, minItems: 1 }, group: { type: 'string', pattern: NAME_PATTERN_SOURCE } },
} as const;

const acceptedResponse = { 202: { type: 'null', description: 'done (thv acts before it answers)' } } as const;

export function registerWorkloadRoutes(app: FastifyInstance, deps: RouteDeps): void {
  // One WorkloadManager per server, shared with the group and client routes (apiServices): never
  // interactive, and a remote OAuth login shows up as `unauthenticated` with its URL.
  const service = () => deps.app.workloads();
  const tags = ['workloads'];
  const startedSchema = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      url: { type: 'string' },
      port: { type: 'integer' },
      warnings: { type: 'array', items: { type: 'string' }, description: 'e.g. required environment variables that were not given' },
    },
    required: ['name', 'url', 'port'],
  } as const;

  app.get<{ Querystring: { all?: boolean; group?: string } }>(
    WORKLOADS_PREFIX,
    {
      schema: {
        tags,
        summary: 'List workloads (running and failed; all=true adds stopped ones); an unknown group is 404',
        querystring: { type: 'object', properties: { all: { type: 'boolean' }, group: { type: 'string', pattern: NAME_PATTERN_SOURCE } } },
        response: { 200: { type: 'object', properties: { workloads: { type: 'array', items: workloadSchema } }, required: ['workloads'] }, ...errorResponses },
      },
    },
    async (request) => {
      const { group } = request.query;
      if (group) await (await service()).groups.require(group, 'GET /api/v1beta/groups lists the groups.');
      return { workloads: await (await service()).list({ all: Boolean(request.query.all), ...(group ? { group } : {}) }) };
    },
  );

  app.post<{ Body: WorkloadBody }>(
    WORKLOADS_PREFIX,
    {
      schema: { tags, summary: 'Create and start a workload; an existing name is 409 already_exists', body: createBodySchema, response: { 201: startedSchema, ...errorResponses } },
    },
    async (request, reply) => {
      const started = await (await service()).run(toRunRequest(request.body));
      return reply.status(201).send(started);
    },
  );

  for (const verb of ['stop', 'restart', 'delete'] as const) {
    app.post<{ Body: { names?: string[]; group?: string } }>(
      `${WORKLOADS_PREFIX}/${verb}`,
      {
        schema: { tags, summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} several workloads: {names} or {group}`, body: bulkBodySchema, response: { ...acceptedResponse, ...errorResponses } },
      },
      async (request, reply) => {
        const names = await bulkTargets(await service(), request.body ?? {});
        for (const name of names) {
          if (verb === 'stop') await (await service()).stop(name);
          else if (verb === 'restart') await (await service()).restart(name);
          else await (await service()).remove(name);
        }
        return reply.status(202).send();
      },
    );
  }

  app.get<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name`,
    {
      schema: {
        tags,
        summary: "The configuration of a workload, as ToolHive's create request (never secret values)",
        params: nameParams,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request) => toCreateRequestShape(await (await service()).runConfigs.get(request.params.name)),
  );

  app.post<{ Params: { name: string }; Body: WorkloadBody }>(
    `${WORKLOADS_PREFIX}/:name/edit`,
    {
      schema: { tags, summary: 'Replace the configuration of a workload and start it again', params: nameParams, body: editBodySchema, response: { 200: startedSchema, ...errorResponses } },
    },
    async (request) => (await service()).replace(request.params.name, toRunRequest({ ...request.body, name: request.params.name })),
  );

  app.get<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name/export`,
    {
      schema: { tags, summary: "The run configuration with ToolHive's field names (secrets as references)", params: nameParams, response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses } },
    },
    async (request) => toExportShape(await (await service()).runConfigs.get(request.params.name)),
  );

  app.get<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name/status`,
    {
      schema: {
        tags,
        summary: 'The status of a workload, reconciled with its supervisor process',
        params: nameParams,
        response: {
          200: { type: 'object', properties: { status: { type: 'string', enum: statusEnum }, status_context: { type: 'string' }, login_url: { type: 'string' } }, required: ['status', 'status_context'] },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const info = await (await service()).status(request.params.name);
      return { status: info.status, status_context: info.status_context, ...(info.login_url ? { login_url: info.login_url } : {}) };
    },
  );

  app.post<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name/stop`,
    { schema: { tags, summary: 'Stop a workload (its whole process tree)', params: nameParams, response: { ...acceptedResponse, ...errorResponses } } },
    async (request, reply) => {
      await (await service()).stop(request.params.name);
      return reply.status(202).send();
    },
  );

  app.post<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name/restart`,
    { schema: { tags, summary: 'Stop and start a workload', params: nameParams, response: { ...acceptedResponse, ...errorResponses } } },
    async (request, reply) => {
      await (await service()).restart(request.params.name);
      return reply.status(202).send();
    },
  );

  app.post<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name/start`,
    { schema: { tags, summary: 'thv: start a stopped workload', params: nameParams, response: { 200: startedSchema, ...errorResponses } } },
    async (request) => {
      const { name } = request.params;
      const started = await (await service()).start(name);
      return { name, url: started.url, port: started.port };
    },
  );

  app.delete<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name`,
    {
      schema: { tags, summary: 'Stop a workload and delete its configuration, status and logs', params: nameParams, response: { ...acceptedResponse, ...errorResponses } },
    },
    async (request, reply) => {
      await (await service()).remove(request.params.name);
      return reply.status(202).send();
    },
  );

  for (const route of ['logs', 'proxy-logs'] as const) {
    app.get<{ Params: { name: string }; Querystring: { tail_bytes: number } }>(
      `${WORKLOADS_PREFIX}/:name/${route}`,
      {
        schema: {
          tags,
          summary:
            route === 'logs'
              ? 'The end of the log of a workload, as text, starting at a line boundary'
              : "The same log: thv's supervisor (the proxy) and the server write one log per workload",
          params: nameParams,
          querystring: {
            type: 'object',
            properties: {
              tail_bytes: { type: 'integer', minimum: 1, maximum: MAX_LOG_TAIL_BYTES, default: DEFAULT_LOG_TAIL_BYTES, description: 'at most this many bytes from the end of the log' },
            },
          },
          response: { 200: { type: 'string' }, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        await (await service()).runConfigs.get(name);
        const text = await readLogTail((await service()).logFile(name), request.query.tail_bytes);
        return reply.type('text/plain; charset=utf-8').send(text);
      },
    );
  }
}

/** The names a bulk request acts on; unknown names are refused before anything is touched. */
async function bulkTargets(workloads: WorkloadManager, body: { names?: string[]; group?: string }): Promise<string[]> {
  if ((body.names === undefined) === (body.group === undefined)) throw badRequest('give either names or group');
  if (body.group !== undefined) {
    await workloads.groups.require(body.group, 'GET /api/v1beta/groups lists the groups.');
    return (await workloads.list({ all: true, group: body.group })).map((w) => w.name);
  }
  const names = [...new Set(body.names)];
  for (const name of names) {
    const known = (await workloads.runConfigs.read(name).catch(() => undefined)) ?? (await workloads.statuses.read(name).catch(() => undefined));
    if (!known) throw badRequest(`workload "${name}" not found`);
  }
  return names;
}

