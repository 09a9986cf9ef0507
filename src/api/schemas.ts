/**
 * JSON schemas shared by the route definitions. Fastify validates requests and serialises
 * responses with them, and @fastify/swagger turns the same objects into the OpenAPI document, so the
 * document cannot drift from what the server does. Response object schemas list their properties:
 * fast-json-stringify drops anything else, which is what keeps tokens out of `auth_config`.
 */
export const errorSchema = {
  type: 'object',
  description: 'Every error: a stable code (docs/api.md#errors) and a message that says what to do next.',
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
  },
  required: ['code', 'message'],
} as const;

export const errorResponses = {
  '4xx': errorSchema,
  '5xx': errorSchema,
} as const;

export const authConfigSchema = {
  type: 'object',
  description: 'OAuth settings as configured; never tokens.',
  properties: {
    issuer: { type: 'string' },
    client_id: { type: 'string' },
    audience: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
  },
} as const;

const registryInfoProperties = {
  name: { type: 'string' },
  type: { type: 'string', enum: ['default', 'file', 'url', 'api'], description: '`default` is the built-in catalog' },
  source: { type: 'string', description: 'the URL or file path; empty for the built-in catalog' },
  auth_status: { type: 'string', enum: ['none', 'configured', 'authenticated'] },
  auth_type: { type: 'string', enum: ['oauth', 'bearer', ''] },
  auth_config: authConfigSchema,
  last_updated: { type: 'string' },
} as const;

export const registryInfoSchema = {
  type: 'object',
  properties: registryInfoProperties,
  required: ['name', 'type', 'source', 'auth_status', 'auth_type'],
} as const;

/** Added to a response that was answered from the cache after a transient failure (docs/registry.md#caching-what-a-failing-registry-looks-like). */
export const staleProperties = {
  stale: { type: 'boolean', description: 'true when the registry failed transiently and cached data was served' },
  fetched_at: { type: 'string', format: 'date-time', description: 'when the served data was fetched (only when stale)' },
  stale_reason: { type: 'string', description: 'what went wrong upstream (only when stale)' },
} as const;

/** Catalog entries keep every field the registry gave them (ToolHive's snake_case model). */
export const catalogServerSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
  },
} as const;

export const remoteServerSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    url: { type: 'string' },
  },
} as const;

export const serverListProperties = {
  servers: { type: 'array', items: catalogServerSchema },
  remote_servers: { type: 'array', items: remoteServerSchema },
} as const;

/** ToolHive's `registry.Registry`: servers keyed by name (the list routes answer arrays). */
export const catalogSchema = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    last_updated: { type: 'string' },
    servers: { type: 'object', additionalProperties: catalogServerSchema },
    remote_servers: { type: 'object', additionalProperties: remoteServerSchema },
  },
  required: ['servers', 'remote_servers'],
} as const;

export const registryNameParams = {
  type: 'object',
  properties: { name: { type: 'string', description: 'the registry name; only `default` exists' } },
  required: ['name'],
} as const;
