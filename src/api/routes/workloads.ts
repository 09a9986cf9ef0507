import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { DEFAULT_LOG_TAIL_BYTES, MAX_LOG_TAIL_BYTES, readLogTail } from '../log-tail.js';
import { errorResponses } from '../schemas.js';
import { badRequest } from '../../core/errors.js';
import { createWorkloadManager } from '../../workloads/service.js';
import { clientsObserver } from '../../clients/observer.js';
import type { ClientChangeReport } from '../../clients/service.js';
import type { RunRequest, WorkloadManager } from '../../workloads/manager.js';
import type { RuntimeKind } from '../../runtimes/types.js';
import { builtinProfile, parseProfile } from '../../isolation/profile.js';

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
  },
  required: ['name', 'url', 'status', 'status_context', 'group'],
} as const;

const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$' } },
  required: ['name'],
} as const;

const createBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of image (a registry name, npx://pkg or uvx://pkg), url (a remote MCP server) or command.',
  properties: {
    name: { type: 'string' },
    image: { type: 'string', minLength: 1, description: 'registry name, npx://pkg[@ver] or uvx://pkg[@ver]' },
    url: { type: 'string', minLength: 1, description: 'remote MCP server URL (http or https)' },
    command: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'a local command and its arguments, run without a shell' },
    cmd_arguments: { type: 'array', items: { type: 'string' }, description: 'extra arguments for a package server' },
    group: { type: 'string' },
    transport: { type: 'string', enum: ['stdio', 'sse', 'streamable-http'] },
    proxy_port: { type: 'integer', minimum: 1, maximum: 65535 },
    host: { type: 'string' },
    env_vars: { type: 'object', additionalProperties: { type: 'string' } },
    secrets: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, properties: { name: { type: 'string' }, target: { type: 'string' } }, required: ['name', 'target'] },
    },
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'headers sent to a remote server' },
    remote_auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        issuer: { type: 'string' },
        client_id: { type: 'string' },
        client_secret: { type: 'string', description: 'kept in the secrets store, never in the run config' },
        scopes: { type: 'array', items: { type: 'string' } },
        resource: { type: 'string' },
        callback_port: { type: 'integer', minimum: 1, maximum: 65535 },
        bearer_token: { type: 'string', description: 'kept in the secrets store, never in the run config' },
        bearer_token_file: { type: 'string' },
      },
    },
    runtime: { type: 'string', enum: ['none', 'sandbox', 'container'], description: 'how a local server runs; default sandbox (docs/isolation.md)' },
    isolation: { type: 'string', enum: ['none', 'sandbox', 'container'], description: 'alias of runtime: "none" runs the server unconfined' },
    permission_profile: {
      description: '"none", "network", or a permission profile object (ToolHive format)',
      anyOf: [{ type: 'string', enum: ['none', 'network'] }, { type: 'object', additionalProperties: true }],
    },
  },
} as const;

interface CreateBody {
  name?: string;
  image?: string;
  url?: string;
  command?: string[];
  cmd_arguments?: string[];
  group?: string;
  transport?: RunRequest['transport'];
  proxy_port?: number;
  host?: string;
  env_vars?: Record<string, string>;
  secrets?: Array<{ name: string; target: string }>;
  headers?: Record<string, string>;
  remote_auth?: {
    enabled?: boolean;
    issuer?: string;
    client_id?: string;
    client_secret?: string;
    scopes?: string[];
    resource?: string;
    callback_port?: number;
    bearer_token?: string;
    bearer_token_file?: string;
  };
  runtime?: RuntimeKind;
  isolation?: RuntimeKind;
  permission_profile?: string | Record<string, unknown>;
}

export interface WorkloadRouteDeps extends ApiDeps {
  /** Shared with the group routes so both see one service; built from the API deps when absent. */
  workloads?: WorkloadManager;
}

export function workloadManagerFor(deps: WorkloadRouteDeps): WorkloadManager {
  // The API never opens a browser (SPEC §7): a remote OAuth login shows up as `unauthenticated` with its URL.
  if (deps.workloads) return deps.workloads;
  const workloads: WorkloadManager = createWorkloadManager({
    paths: deps.paths,
    env: deps.env,
    interactive: false,
    openBrowser: false,
    registry: deps.registry,
    ...(deps.clock ? { clock: deps.clock } : {}),
    // Registered AI clients follow the workloads (docs/clients.md); problems go to the log.
    observer: clientsObserver({ paths: deps.paths, env: deps.env, workloads: () => workloads, onReport: (report) => logClientProblems(deps, report) }),
  });
  return workloads;
}

function logClientProblems(deps: WorkloadRouteDeps, report: ClientChangeReport): void {
  for (const problem of report.problems) deps.logger?.warn({ client: problem.client, file: problem.file }, problem.message);
}

/** `/api/v1beta/workloads`: the CLI's workload commands over HTTP, through the same service. */
export function registerWorkloadRoutes(app: FastifyInstance, deps: WorkloadRouteDeps): void {
  const workloads = workloadManagerFor(deps);
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
        summary: 'List workloads (running and failed; all=true adds stopped ones)',
        querystring: { type: 'object', properties: { all: { type: 'boolean' }, group: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { workloads: { type: 'array', items: workloadSchema } }, required: ['workloads'] }, ...errorResponses },
      },
    },
    async (request) => ({
      workloads: await workloads.list({ all: Boolean(request.query.all), ...(request.query.group ? { group: request.query.group } : {}) }),
    }),
  );

  app.post<{ Body: CreateBody }>(
    WORKLOADS_PREFIX,
    {
      schema: { tags, summary: 'Create and start a workload', body: createBodySchema, response: { 201: startedSchema, ...errorResponses } },
    },
    async (request, reply) => {
      const started = await workloads.run(toRunRequest(request.body));
      return reply.status(201).send(started);
    },
  );

  app.get<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name`,
    { schema: { tags, summary: 'One workload', params: nameParams, response: { 200: workloadSchema, ...errorResponses } } },
    async (request) => workloads.status(request.params.name),
  );

  app.get<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name/status`,
    {
      schema: {
        tags,
        summary: 'The status of a workload, reconciled with its supervisor process',
        params: nameParams,
        response: {
          200: { type: 'object', properties: { status: { type: 'string', enum: statusEnum }, status_context: { type: 'string' } }, required: ['status', 'status_context'] },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const info = await workloads.status(request.params.name);
      return { status: info.status, status_context: info.status_context };
    },
  );

  app.post<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name/stop`,
    {
      schema: {
        tags,
        summary: 'Stop a workload (its whole process tree)',
        params: nameParams,
        response: { 200: { type: 'object', properties: { was_running: { type: 'boolean' } }, required: ['was_running'] }, ...errorResponses },
      },
    },
    async (request) => ({ was_running: (await workloads.stop(request.params.name)).wasRunning }),
  );

  for (const verb of ['start', 'restart'] as const) {
    app.post<{ Params: { name: string } }>(
      `${WORKLOADS_PREFIX}/:name/${verb}`,
      { schema: { tags, summary: verb === 'start' ? 'Start a stopped workload' : 'Stop and start a workload', params: nameParams, response: { 200: startedSchema, ...errorResponses } } },
      async (request) => {
        const { name } = request.params;
        const started = verb === 'start' ? await workloads.start(name) : await workloads.restart(name);
        return { name, url: started.url, port: started.port };
      },
    );
  }

  app.delete<{ Params: { name: string } }>(
    `${WORKLOADS_PREFIX}/:name`,
    {
      schema: { tags, summary: 'Stop a workload and delete its configuration, status and logs', params: nameParams, response: { 204: { type: 'null' }, ...errorResponses } },
    },
    async (request, reply) => {
      await workloads.remove(request.params.name);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { name: string }; Querystring: { tail_bytes: number } }>(
    `${WORKLOADS_PREFIX}/:name/logs`,
    {
      schema: {
        tags,
        summary: 'The end of the log of a workload, as text, starting at a line boundary',
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
      await workloads.runConfigs.get(name);
      const text = await readLogTail(workloads.logFile(name), request.query.tail_bytes);
      return reply.type('text/plain; charset=utf-8').send(text);
    },
  );
}

function toRunRequest(body: CreateBody): RunRequest {
  const sources = [body.image, body.url, body.command].filter((v) => v !== undefined);
  if (sources.length !== 1) {
    throw badRequest('give exactly one of image, url or command');
  }
  const req: RunRequest = {
    ...(body.image ? { target: body.image } : {}),
    ...(body.url ? { target: body.url } : {}),
    command: body.command ?? body.cmd_arguments ?? [],
    env: body.env_vars ?? {},
    secrets: body.secrets ?? [],
    headers: body.headers ?? {},
    ...(body.name ? { name: body.name } : {}),
    ...(body.group ? { group: body.group } : {}),
    ...(body.transport ? { transport: body.transport } : {}),
    ...(body.proxy_port ? { proxyPort: body.proxy_port } : {}),
    ...(body.host ? { host: body.host } : {}),
  };
  const runtime = body.runtime ?? body.isolation;
  if (body.runtime && body.isolation && body.runtime !== body.isolation) throw badRequest(`runtime ${body.runtime} and isolation ${body.isolation} contradict each other`);
  if (runtime) req.runtime = runtime;
  if (body.permission_profile !== undefined) {
    req.permissionProfile =
      typeof body.permission_profile === 'string'
        ? builtinOrRefuse(body.permission_profile)
        : parseProfile(body.permission_profile, 'permission_profile');
  }
  const auth = body.remote_auth;
  if (auth) {
    req.remoteAuth = {
      ...(auth.enabled ? { enabled: true } : {}),
      ...(auth.issuer ? { issuer: auth.issuer } : {}),
      ...(auth.client_id ? { clientId: auth.client_id } : {}),
      ...(auth.client_secret ? { clientSecret: auth.client_secret } : {}),
      ...(auth.scopes ? { scopes: auth.scopes } : {}),
      ...(auth.resource ? { resource: auth.resource } : {}),
      ...(auth.callback_port ? { callbackPort: auth.callback_port } : {}),
      ...(auth.bearer_token ? { bearerToken: auth.bearer_token } : {}),
      ...(auth.bearer_token_file ? { bearerTokenFile: auth.bearer_token_file } : {}),
    };
  }
  return req;
}

function builtinOrRefuse(name: string) {
  const profile = builtinProfile(name);
  if (!profile) throw badRequest(`permission_profile "${name}" is not a built-in profile`, 'Give none, network or a profile object.');
  return profile;
}
