import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../../core/errors.js';
import { isRemoteServer, type StaleMarker } from '../../registry/types.js';
import type { RegistryInfo } from '../../registry/service.js';
import type { ApiDeps } from '../deps.js';
import {
  catalogSchema,
  catalogServerSchema,
  errorResponses,
  registryInfoSchema,
  registryNameParams,
  remoteServerSchema,
  serverListProperties,
  staleProperties,
} from '../schemas.js';

export const REGISTRY_PREFIX = '/api/v1beta/registry';
const DEFAULT_REGISTRY = 'default';

interface NameParams {
  name: string;
}

interface SetRegistryBody {
  url?: string;
  api_url?: string;
  local_path?: string;
  allow_private_ip?: boolean;
  auth?: { issuer: string; client_id: string; audience?: string; scopes?: string[]; callback_port?: number };
}

const setRegistryBodySchema = {
  type: 'object',
  description: 'One of url, api_url or local_path; an empty body resets to the embedded catalog.',
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1, description: 'a registry JSON document, or an MCP Registry API (detected)' },
    api_url: { type: 'string', minLength: 1, description: 'an MCP Registry API v0.1 base URL' },
    local_path: { type: 'string', minLength: 1, description: 'a registry JSON file on the server machine' },
    allow_private_ip: { type: 'boolean' },
    auth: {
      type: 'object',
      additionalProperties: false,
      description: 'OAuth/OIDC settings; the issuer is checked with discovery before anything is saved',
      properties: {
        issuer: { type: 'string', minLength: 1 },
        client_id: { type: 'string', minLength: 1 },
        audience: { type: 'string' },
        scopes: { type: 'array', items: { type: 'string' } },
        callback_port: { type: 'integer', minimum: 1, maximum: 65535 },
      },
      required: ['issuer', 'client_id'],
    },
  },
} as const;

/** The stale marker and the data's timestamp, present only when a cached copy was served. */
export function staleFields(stale: StaleMarker | undefined): { stale?: true; fetched_at?: string; stale_reason?: string } {
  if (!stale) return {};
  return { stale: true, fetched_at: new Date(stale.fetchedAt).toISOString(), stale_reason: stale.error };
}

/**
 * The registry's info in ToolHive's terms (docs/api.md#toolhive-studio): the built-in catalog is type
 * `default` with an empty `source`, as Studio expects; `file`, `url` and `api` are the same words.
 */
export function apiRegistryInfo(info: RegistryInfo): Omit<RegistryInfo, 'type'> & { type: 'default' | 'file' | 'url' | 'api' } {
  return info.type === 'embedded' ? { ...info, type: 'default', source: '' } : { ...info, type: info.type };
}

function requireDefault(name: string): void {
  if (name !== DEFAULT_REGISTRY) {
    throw notFound(`registry "${name}" not found`, `The only registry is "${DEFAULT_REGISTRY}".`);
  }
}

export function registerRegistryRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { registry } = deps;
  const tags = ['registry'];

  app.get(
    REGISTRY_PREFIX,
    {
      schema: {
        tags,
        summary: 'List registries (there is one, `default`) without fetching them',
        response: {
          200: { type: 'object', properties: { registries: { type: 'array', items: registryInfoSchema } }, required: ['registries'] },
          ...errorResponses,
        },
      },
    },
    async () => ({ registries: [apiRegistryInfo(await registry.info())] }),
  );

  app.get<{ Params: NameParams }>(
    `${REGISTRY_PREFIX}/:name`,
    {
      schema: {
        tags,
        summary: 'A registry and its catalog',
        params: registryNameParams,
        response: {
          200: {
            type: 'object',
            properties: { ...registryInfoSchema.properties, server_count: { type: 'integer' }, version: { type: 'string' }, registry: catalogSchema, ...staleProperties },
            required: [...registryInfoSchema.required, 'registry'],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      requireDefault(request.params.name);
      const listing = await registry.list();
      const { catalog } = listing;
      const byName = <T extends { name: string }>(items: T[]) => Object.fromEntries(items.map((item) => [item.name, item]));
      return {
        ...apiRegistryInfo(await registry.info()),
        server_count: catalog.servers.length + catalog.remote_servers.length,
        ...(catalog.version !== undefined ? { version: catalog.version } : {}),
        registry: { ...catalog, servers: byName(catalog.servers), remote_servers: byName(catalog.remote_servers) },
        ...staleFields(listing.stale),
      };
    },
  );

  app.put<{ Params: NameParams; Body: SetRegistryBody | undefined }>(
    `${REGISTRY_PREFIX}/:name`,
    {
      // An absent body means "reset"; validation sees it as an empty object.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags,
        summary: 'Point the registry at a URL, API or file (with optional OAuth), or reset it with an empty body',
        params: registryNameParams,
        body: setRegistryBodySchema,
        response: { 200: registryInfoSchema, ...errorResponses },
      },
    },
    async (request) => {
      requireDefault(request.params.name);
      const body = request.body ?? {};
      const sources = (['url', 'api_url', 'local_path'] as const).filter((key) => body[key] !== undefined);
      if (sources.length > 1) throw badRequest(`give only one of url, api_url or local_path (got ${sources.join(', ')})`);
      if (sources.length === 0) {
        if (body.auth || body.allow_private_ip !== undefined) {
          throw badRequest('auth and allow_private_ip need a registry: give url, api_url or local_path', 'Send an empty body to reset to the embedded catalog.');
        }
        await registry.unsetRegistry();
      } else {
        await registry.setRegistry({
          ...(body.url !== undefined ? { url: body.url } : {}),
          ...(body.api_url !== undefined ? { apiUrl: body.api_url } : {}),
          ...(body.local_path !== undefined ? { localPath: body.local_path } : {}),
          ...(body.allow_private_ip !== undefined ? { allowPrivateIp: body.allow_private_ip } : {}),
          ...(body.auth
            ? {
                auth: {
                  issuer: body.auth.issuer,
                  clientId: body.auth.client_id,
                  ...(body.auth.audience !== undefined ? { audience: body.auth.audience } : {}),
                  ...(body.auth.scopes !== undefined ? { scopes: body.auth.scopes } : {}),
                  ...(body.auth.callback_port !== undefined ? { callbackPort: body.auth.callback_port } : {}),
                },
              }
            : {}),
        });
      }
      return apiRegistryInfo(await registry.info());
    },
  );

  app.post<{ Params: NameParams }>(
    `${REGISTRY_PREFIX}/:name/refresh`,
    {
      schema: {
        tags,
        summary: 'Fetch the registry now, bypassing the cache',
        params: registryNameParams,
        response: {
          200: {
            type: 'object',
            properties: {
              last_updated: { type: 'string' },
              server_count: { type: 'integer' },
              remote_server_count: { type: 'integer' },
              ...staleProperties,
            },
            required: ['server_count', 'remote_server_count'],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      requireDefault(request.params.name);
      const { catalog, stale } = await registry.list({ refresh: true });
      return {
        ...(catalog.last_updated ? { last_updated: catalog.last_updated } : {}),
        server_count: catalog.servers.length,
        remote_server_count: catalog.remote_servers.length,
        ...staleFields(stale),
      };
    },
  );

  app.get<{ Params: NameParams }>(
    `${REGISTRY_PREFIX}/:name/servers`,
    {
      schema: {
        tags,
        summary: 'Every server in the registry',
        params: registryNameParams,
        response: {
          200: { type: 'object', properties: { ...serverListProperties, ...staleProperties }, required: ['servers', 'remote_servers'] },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      requireDefault(request.params.name);
      const { catalog, stale } = await registry.list();
      return { servers: catalog.servers, remote_servers: catalog.remote_servers, ...staleFields(stale) };
    },
  );

  const oneServerResponse = {
    200: {
      type: 'object',
      description: '`server` for a local (package/image) server, `remote_server` for a remote one',
      properties: { server: catalogServerSchema, remote_server: remoteServerSchema, is_remote: { type: 'boolean' }, ...staleProperties },
      required: ['is_remote'],
    },
    ...errorResponses,
  } as const;
  const getOneServer = async (registryName: string, serverName: string) => {
    requireDefault(registryName);
    if (!serverName) throw badRequest('a server name is required');
    const { server, stale } = await registry.getServer(serverName);
    const found = isRemoteServer(server) ? { remote_server: server, is_remote: true } : { server, is_remote: false };
    return { ...found, ...staleFields(stale) };
  };

  app.get<{ Params: NameParams & { serverName: string } }>(
    `${REGISTRY_PREFIX}/:name/servers/:serverName`,
    {
      schema: {
        tags,
        summary: 'One server, by full name (`io.github.stacklok%2Ffetch`) or unambiguous short name (`fetch`)',
        params: {
          type: 'object',
          properties: {
            ...registryNameParams.properties,
            serverName: { type: 'string', description: 'URL-encode the slash of a full name, or send it as is' },
          },
          required: ['name', 'serverName'],
        },
        response: oneServerResponse,
      },
    },
    async (request) => getOneServer(request.params.name, request.params.serverName),
  );

  // Full names contain a slash (`io.github.stacklok/fetch`); clients that do not encode it land here.
  app.get<{ Params: NameParams & { '*': string } }>(
    `${REGISTRY_PREFIX}/:name/servers/*`,
    { schema: { hide: true, response: oneServerResponse } },
    async (request: FastifyRequest<{ Params: NameParams & { '*': string } }>) =>
      getOneServer(request.params.name, request.params['*']),
  );
}
