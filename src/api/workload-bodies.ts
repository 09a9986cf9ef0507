import { badRequest } from '../core/errors.js';
import { NAME_PATTERN_SOURCE } from '../core/names.js';
import type { RunRequest } from '../workloads/manager.js';
import type { RuntimeKind } from '../runtimes/types.js';
import { builtinProfile, parseProfile } from '../isolation/profile.js';
import type { RunConfig } from '../workloads/types.js';
import { isolationSummary } from '../workloads/isolation.js';

/**
 * ToolHive's workload request and response shapes (docs/api.md#toolhive-studio), mapped to thv's typed
 * service input. Fields ToolHive has for its container runtime are accepted when they ask for
 * nothing (empty, false, 0) so Studio's requests pass; a value thv cannot honour is a 400 naming the
 * field, never silently dropped.
 */
const nameSchema = { type: 'string', pattern: NAME_PATTERN_SOURCE } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const secretParameter = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1 }, target: { type: 'string', minLength: 1 } },
  required: ['name', 'target'],
} as const;

const workloadFields = {
  image: { type: 'string', minLength: 1, description: 'registry name, npx://pkg[@ver] or uvx://pkg[@ver]' },
  url: { type: 'string', minLength: 1, description: 'remote MCP server URL (http or https)' },
  command: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'thv: a local command and its arguments, run without a shell' },
  cmd_arguments: { type: 'array', items: { type: 'string' }, description: 'extra arguments for a package server' },
  group: nameSchema,
  transport: { type: 'string', enum: ['stdio', 'sse', 'streamable-http'] },
  proxy_mode: { type: 'string', enum: ['streamable-http', 'sse'] },
  proxy_port: { type: 'integer', minimum: 0, maximum: 65535, description: '0 or absent: a free port' },
  host: { type: 'string', description: 'an IP literal or localhost' },
  env_vars: stringMap,
  secrets: { type: 'array', items: secretParameter },
  headers: {
    description: 'headers sent to a remote: thv takes {name: value}; ToolHive header definitions [{name, default}] are accepted too',
    anyOf: [stringMap, { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, default: { type: 'string' } }, required: ['name'] } }],
  },
  header_forward: {
    type: 'object',
    additionalProperties: false,
    properties: { add_plaintext_headers: stringMap, add_headers_from_secret: stringMap },
  },
  oauth_config: {
    type: 'object',
    additionalProperties: false,
    properties: {
      issuer: { type: 'string' },
      client_id: { type: 'string' },
      client_secret: secretParameter,
      bearer_token: secretParameter,
      scopes: { type: 'array', items: { type: 'string' } },
      resource: { type: 'string' },
      callback_port: { type: 'integer', minimum: 0, maximum: 65535 },
      skip_browser: { type: 'boolean' },
      use_pkce: { type: 'boolean' },
      authorize_url: { type: 'string' },
      token_url: { type: 'string' },
      oauth_params: stringMap,
    },
  },
  remote_auth: {
    type: 'object',
    additionalProperties: false,
    description: 'thv: remote authentication with secret values (kept in the secrets store, never in the run config)',
    properties: {
      enabled: { type: 'boolean' },
      issuer: { type: 'string' },
      client_id: { type: 'string' },
      client_secret: { type: 'string' },
      scopes: { type: 'array', items: { type: 'string' } },
      resource: { type: 'string' },
      callback_port: { type: 'integer', minimum: 1, maximum: 65535 },
      bearer_token: { type: 'string' },
      bearer_token_file: { type: 'string' },
    },
  },
  registry: { type: 'string' },
  server: { type: 'string', minLength: 1, description: 'a server name in the registry (used when image is absent)' },
  // ToolHive container-runtime fields: accepted when they ask for nothing.
  runtime: { type: 'string', enum: ['none', 'sandbox', 'container'], description: 'thv: how a local server runs; default sandbox (docs/isolation.md)' },
  isolation: { type: 'string', enum: ['none', 'sandbox', 'container'], description: 'thv: alias of runtime: "none" runs the server unconfined' },
  permission_profile: {
    description: '"none", "network", or a permission profile object (ToolHive format)',
    anyOf: [{ type: 'string', enum: ['none', 'network'] }, { type: 'object', additionalProperties: true }],
  },
  network_isolation: { type: 'boolean', description: 'accepted; false with no runtime given runs the server unconfined (docs/isolation.md)' },
  volumes: { type: 'array', items: { type: 'string' } },
  target_port: { type: 'integer', minimum: 0, maximum: 65535 },
  tools: { type: 'array', items: { type: 'string' } },
  tools_override: { type: 'object' },
  trust_proxy_headers: { type: 'boolean' },
  allow_docker_gateway: { type: 'boolean' },
  authz_config: { type: 'string' },
  oidc: { type: 'object' },
  runtime_config: { type: 'object' },
} as const;

export const createBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of image, url, command or server.',
  properties: { name: nameSchema, ...workloadFields },
} as const;

export const editBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'The whole new configuration (the name cannot change); the workload is recreated and started.',
  properties: workloadFields,
} as const;

export interface WorkloadBody {
  name?: string;
  image?: string;
  url?: string;
  command?: string[];
  cmd_arguments?: string[];
  group?: string;
  transport?: RunRequest['transport'];
  proxy_mode?: 'streamable-http' | 'sse';
  proxy_port?: number;
  host?: string;
  env_vars?: Record<string, string>;
  secrets?: Array<{ name: string; target: string }>;
  headers?: Record<string, string> | Array<{ name: string; default?: string }>;
  header_forward?: { add_plaintext_headers?: Record<string, string>; add_headers_from_secret?: Record<string, string> };
  oauth_config?: {
    issuer?: string;
    client_id?: string;
    client_secret?: { name: string; target: string };
    bearer_token?: { name: string; target: string };
    scopes?: string[];
    resource?: string;
    callback_port?: number;
    skip_browser?: boolean;
    use_pkce?: boolean;
    authorize_url?: string;
    token_url?: string;
    oauth_params?: Record<string, string>;
  };
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
  registry?: string;
  server?: string;
  runtime?: RuntimeKind;
  isolation?: RuntimeKind;
  permission_profile?: string | Record<string, unknown>;
  network_isolation?: boolean;
  volumes?: string[];
  target_port?: number;
  tools?: string[];
  tools_override?: Record<string, unknown>;
  trust_proxy_headers?: boolean;
  allow_docker_gateway?: boolean;
  authz_config?: string;
  oidc?: Record<string, unknown>;
  runtime_config?: Record<string, unknown>;
}

/** Validated JSON → the service's typed request. No re-encoding into CLI syntax. */
export function toRunRequest(body: WorkloadBody): RunRequest {
  refuseUnsupported(body);
  const target = body.image ?? body.url ?? (body.command ? undefined : body.server);
  const sources = [body.image, body.url, body.command, body.image || body.url || body.command ? undefined : body.server].filter((v) => v !== undefined);
  if (sources.length !== 1) throw badRequest('give exactly one of image, url, command or server');
  if (body.command && body.cmd_arguments?.length) throw badRequest('cmd_arguments apply to image and server workloads; put the arguments in command');
  if (body.host !== undefined) checkHost(body.host);
  const headers = {
    ...(Array.isArray(body.headers) ? Object.fromEntries(body.headers.filter((h) => h.default !== undefined).map((h) => [h.name, h.default!])) : (body.headers ?? {})),
    ...(body.header_forward?.add_plaintext_headers ?? {}),
  };
  const req: RunRequest = {
    ...(target !== undefined ? { target } : {}),
    command: body.command ?? body.cmd_arguments ?? [],
    env: body.env_vars ?? {},
    secrets: body.secrets ?? [],
    headers,
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(body.group !== undefined ? { group: body.group } : {}),
    ...(body.transport ? { transport: body.transport } : {}),
    ...(body.proxy_port ? { proxyPort: body.proxy_port } : {}),
    // An SSE/streamable-HTTP image's port inside its container (docs/runtimes.md).
    ...(body.target_port ? { targetPort: body.target_port } : {}),
    ...(body.host !== undefined ? { host: body.host } : {}),
  };
  const runtime = body.runtime ?? body.isolation;
  if (body.runtime && body.isolation && body.runtime !== body.isolation) throw badRequest(`runtime ${body.runtime} and isolation ${body.isolation} contradict each other`);
  if (runtime) req.runtime = runtime;
  if (body.permission_profile !== undefined) {
    req.permissionProfile =
      typeof body.permission_profile === 'string' ? builtinOrRefuse(body.permission_profile) : parseProfile(body.permission_profile, 'permission_profile');
  }
  const auth = body.remote_auth;
  const oauth = body.oauth_config;
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
  } else if (oauth && (oauth.issuer || oauth.client_id)) {
    req.remoteAuth = {
      enabled: true,
      ...(oauth.issuer ? { issuer: oauth.issuer } : {}),
      ...(oauth.client_id ? { clientId: oauth.client_id } : {}),
      ...(oauth.scopes ? { scopes: oauth.scopes } : {}),
      ...(oauth.resource ? { resource: oauth.resource } : {}),
      ...(oauth.callback_port ? { callbackPort: oauth.callback_port } : {}),
      ...(oauth.skip_browser ? { skipBrowser: true } : {}),
    };
  }
  return req;
}

/**
 * `host` is where the supervisor binds: an IP literal or `localhost`. A DNS name would make the
 * supervisor resolve it and bind whatever it points at.
 */
export function checkHost(host: string): void {
  const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  const ipv6 = /^[0-9a-fA-F:]+(%[A-Za-z0-9]+)?$/;
  if (host === 'localhost' || ipv4.test(host) || (host.includes(':') && ipv6.test(host))) return;
  throw badRequest(`host must be an IP address or localhost, not "${host.slice(0, 80)}"`);
}

function refuseUnsupported(body: WorkloadBody): void {
  const asked: Array<[string, boolean]> = [
    ['volumes', Boolean(body.volumes?.length)],
    ['tools', Boolean(body.tools?.length)],
    ['tools_override', Boolean(body.tools_override && Object.keys(body.tools_override).length)],
    ['trust_proxy_headers', Boolean(body.trust_proxy_headers)],
    ['allow_docker_gateway', Boolean(body.allow_docker_gateway)],
    ['authz_config', Boolean(body.authz_config)],
    ['oidc', Boolean(body.oidc && Object.values(body.oidc).some((v) => v !== '' && v !== undefined && v !== null && v !== false))],
    ['runtime_config', Boolean(body.runtime_config && Object.keys(body.runtime_config).length)],
    ['header_forward.add_headers_from_secret', Boolean(body.header_forward?.add_headers_from_secret && Object.keys(body.header_forward.add_headers_from_secret).length)],
    ['oauth_config.client_secret', Boolean(body.oauth_config?.client_secret)],
    ['oauth_config.bearer_token', Boolean(body.oauth_config?.bearer_token)],
    ['oauth_config.authorize_url', Boolean(body.oauth_config?.authorize_url || body.oauth_config?.token_url)],
  ];
  const unsupported = asked.filter(([, isAsked]) => isAsked).map(([field]) => field);
  if (unsupported.length) throw badRequest(`${unsupported.join(', ')}: not supported by thv (docs/api.md#toolhive-studio)`);
}

/** `GET /workloads/{name}`: the run config as ToolHive's createRequest, never a secret value. */
export function toCreateRequestShape(config: RunConfig): Record<string, unknown> {
  const kind = config.source.kind;
  return {
    name: config.name,
    group: config.group,
    ...(kind === 'remote' ? { url: config.remote_url ?? config.source.ref } : {}),
    ...(kind === 'command' ? { command: [config.command ?? '', ...config.args] } : {}),
    ...(kind !== 'remote' && kind !== 'command' ? { image: config.source.ref, cmd_arguments: extraArguments(config) } : {}),
    transport: config.transport,
    proxy_mode: config.proxy_mode,
    host: config.host,
    ...(config.port_fixed && config.port ? { proxy_port: config.port } : {}),
    env_vars: config.env,
    secrets: config.secrets,
    header_forward: { add_plaintext_headers: config.headers },
    // thv's own: how the server is confined (docs/isolation.md), as `thv status` shows it.
    ...(kind !== 'remote' ? { runtime: config.runtime ?? 'none', isolation: isolationSummary(config), permission_profile: config.permission_profile } : {}),
    ...(config.remote_auth
      ? {
          oauth_config: {
            ...(config.remote_auth.issuer ? { issuer: config.remote_auth.issuer } : {}),
            ...(config.remote_auth.client_id ? { client_id: config.remote_auth.client_id } : {}),
            ...(config.remote_auth.scopes ? { scopes: config.remote_auth.scopes } : {}),
            ...(config.remote_auth.resource ? { resource: config.remote_auth.resource } : {}),
            ...(config.remote_auth.callback_port ? { callback_port: config.remote_auth.callback_port } : {}),
          },
        }
      : {}),
  };
}

/** `GET /workloads/{name}/export`: ToolHive's RunConfig field names for what thv stores. */
export function toExportShape(config: RunConfig): Record<string, unknown> {
  return {
    schema_version: 'thv-1',
    name: config.name,
    base_name: config.name,
    group: config.group,
    ...(config.source.kind === 'remote' ? { remote_url: config.remote_url ?? config.source.ref } : { image: config.source.ref }),
    cmd_args: config.source.kind === 'command' ? [config.command ?? '', ...config.args] : config.args,
    transport: config.transport,
    proxy_mode: config.proxy_mode,
    host: config.host,
    ...(config.port ? { port: config.port } : {}),
    env_vars: config.env,
    // ToolHive's `<name>,target=<ENV>` references; values stay in the secrets store.
    secrets: config.secrets.map((s) => `${s.name},target=${s.target}`),
    header_forward: { add_plaintext_headers: config.headers },
  };
}

function builtinOrRefuse(name: string) {
  const profile = builtinProfile(name);
  if (!profile) throw badRequest(`permission_profile "${name}" is not a built-in profile`, 'Give none, network or a profile object.');
  return profile;
}

function extraArguments(config: RunConfig): string[] {
  return config.args;
}
