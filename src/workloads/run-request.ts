import { validateHeaderName, validateHeaderValue } from 'node:http';
import { badRequest } from '../core/errors.js';
import { checkName } from '../core/names.js';
import { parseMount, type PermissionProfile } from '../isolation/profile.js';
import { isLoopbackHost } from '../transport/guards.js';
import type { RuntimeKind } from '../runtimes/types.js';
import type { ResolvedSource } from './sources.js';
import { DEFAULT_RUNTIME, type RemoteAuthConfig, type RunConfig } from './types.js';

/** A secret from the secrets store handed to the server as the environment variable `target`. */
export interface SecretRef {
  name: string;
  target: string;
}

/** OAuth or static-token authentication to a remote server; secret values go to the secrets store. */
export interface RemoteAuthInput {
  enabled?: boolean;
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  scopes?: string[];
  resource?: string;
  callbackPort?: number;
  skipBrowser?: boolean;
  timeout?: string;
  bearerToken?: string;
  bearerTokenFile?: string;
}

/**
 * `thv run` / `POST /workloads` input, typed: the CLI parses its flags and the API validates its
 * JSON into this shape (docs/architecture.md); nothing here is flag syntax.
 */
export interface RunRequest {
  /** Registry name, npx://…, uvx://… or http(s)://…; undefined with `command` for `-- <command>`. */
  target?: string;
  /** `-- <command> [args]`, or extra arguments for a package target. */
  command?: string[];
  name?: string;
  group?: string;
  transport?: RunConfig['transport'];
  proxyPort?: number;
  /** Container runtime: the port an SSE/streamable-HTTP server listens on inside its container. */
  targetPort?: number;
  host?: string;
  /** Plain environment variables for the server, stored as given. */
  env?: Record<string, string>;
  secrets?: SecretRef[];
  /** Headers sent to a remote; credential ones (see isSecretHeader) go to the secrets store. */
  headers?: Record<string, string>;
  remoteAuth?: RemoteAuthInput;
  /** Send credentials to a plain-http remote that is not on this machine (docs/remote-auth.md#plain-http). */
  allowInsecureHttp?: boolean;
  cwd?: string;
  /** How a local server is started (default: DEFAULT_RUNTIME). */
  runtime?: RuntimeKind;
  /** The resolved permission profile for an isolating runtime. */
  permissionProfile?: PermissionProfile;
  /** Container runtime: the builder base image for npx://, uvx://, go:// (default: config, else ToolHive's). */
  runtimeImage?: string;
  /** `--volume` mounts (container runtime), added to the permission profile's read/write lists. */
  volumes?: Array<{ declaration: string; writable: boolean }>;
  /** Pull and build progress lines (the CLI writes them to stderr). */
  onProgress?: (line: string) => void;
}

/** A credential to put in the secrets store (workloads scope) under `key`. */
export interface StoredCredential {
  key: string;
  value: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The run config of a new workload and the credentials it refers to, validated as a whole before
 * anything is stored (a refused request leaves nothing behind). `warnings` receives required
 * environment variables that were not given.
 */
export function buildRunConfig(
  req: RunRequest,
  resolved: ResolvedSource,
  base: { name: string; group: string; createdAt: string },
  warnings: string[],
): { config: RunConfig; credentials: StoredCredential[] } {
  const { name, group } = base;
  checkWorkloadName(name);
  if (req.proxyPort !== undefined && (!Number.isInteger(req.proxyPort) || req.proxyPort < 1 || req.proxyPort > 65535)) {
    throw badRequest(`--proxy-port ${req.proxyPort} is not a port number`);
  }
  if (req.targetPort !== undefined && (!Number.isInteger(req.targetPort) || req.targetPort < 1 || req.targetPort > 65535)) {
    throw badRequest(`--target-port ${req.targetPort} is not a port number`);
  }
  const env = checkEnv(req.env ?? {});
  const secrets = checkSecrets(req.secrets ?? []);
  if (req.remoteAuth && !resolved.remoteUrl) throw badRequest('--remote-auth flags apply to remote servers only');
  const { plain: plainHeaders, secret: secretHeaders } = splitSecretHeaders(checkHeaders(req.headers ?? {}));
  const headers = { ...resolved.headers, ...plainHeaders };
  for (const header of Object.keys(secretHeaders)) deleteHeader(headers, header);
  if (resolved.remoteUrl && !req.allowInsecureHttp) checkPlainHttp(resolved.remoteUrl, Boolean(req.remoteAuth) || Object.keys(secretHeaders).length > 0);
  const image = req.runtime === 'container' && !resolved.remoteUrl ? (resolved.image ?? resolved.buildRef) : undefined;
  const credentials: StoredCredential[] = [];
  const remoteAuth = req.remoteAuth ? remoteAuthConfig(name, req.remoteAuth, credentials) : undefined;
  const headerRefs: Record<string, string> = {};
  for (const [header, value] of Object.entries(secretHeaders)) {
    headerRefs[header] = headerSecretKey(name, header);
    credentials.push({ key: headerRefs[header], value });
  }
  const config: RunConfig = {
    schema_version: 1,
    name,
    group,
    source: resolved.source,
    // In a container the image runs its own entry point; a package becomes an image built by `thv run` (docs/runtimes.md).
    ...(resolved.command && !image ? { command: resolved.command } : {}),
    args: image ? (resolved.imageArgs ?? []) : resolved.args,
    ...(image ? { image } : {}),
    ...(image && (req.targetPort ?? resolved.targetPort) ? { target_port: req.targetPort ?? resolved.targetPort } : {}),
    ...(resolved.remoteUrl ? { remote_url: resolved.remoteUrl } : {}),
    transport: resolved.remoteUrl || image ? resolved.transport : 'stdio',
    // An image's server speaks its own transport, which the proxy passes through; a stdio one is bridged to the endpoint asked for.
    proxy_mode: !resolved.remoteUrl && (image && resolved.transport !== 'stdio' ? resolved.transport === 'sse' : req.transport === 'sse') ? 'sse' : 'streamable-http',
    host: req.host ?? '127.0.0.1',
    ...(req.proxyPort ? { port: req.proxyPort } : {}),
    port_fixed: req.proxyPort !== undefined,
    env,
    secrets,
    headers,
    ...(Object.keys(headerRefs).length ? { header_refs: headerRefs } : {}),
    ...(remoteAuth ? { remote_auth: remoteAuth } : {}),
    created_at: base.createdAt,
    ...(req.cwd ? { cwd: req.cwd } : {}),
    runtime: req.runtime ?? DEFAULT_RUNTIME,
    ...(req.permissionProfile || req.volumes?.length ? { permission_profile: withVolumes(req.permissionProfile, req.volumes ?? []) } : {}),
  };
  const given = new Set([...Object.keys(env), ...secrets.map((s) => s.target)]);
  for (const v of resolved.requiredEnv ?? []) {
    if (given.has(v.name)) continue;
    const how = v.secret ? `--secret <name>,target=${v.name}` : `-e ${v.name}=<value>`;
    warnings.push(`the server expects ${v.name}${v.description ? ` (${v.description})` : ''}; pass it with ${how}`);
  }
  return { config, credentials };
}

/**
 * Credentials (remote auth, a bearer token, credential headers) travel in clear text over plain http,
 * so they go only to this machine unless the user says otherwise (docs/remote-auth.md#plain-http).
 */
function checkPlainHttp(remoteUrl: string, withCredentials: boolean): void {
  const url = new URL(remoteUrl);
  if (!withCredentials || url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return;
  throw badRequest(
    `refusing to send credentials to ${url.host} over plain http: anyone on the network path could read them`,
    'Use an https:// URL, or pass --allow-insecure-http if the network is trusted.',
  );
}

export function checkWorkloadName(name: string): void {
  checkName('workload', name);
}

function checkEnv(env: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(env)) {
    if (!key || key.includes('=') || key.includes('\0')) throw badRequest(`"${key}" is not an environment variable name`, 'Use -e NAME=value.');
  }
  return { ...env };
}

function checkSecrets(secrets: SecretRef[]): SecretRef[] {
  return secrets.map(({ name, target }) => {
    checkName('secret', name);
    if (name.includes(',')) throw badRequest(`"${name}" is not a secret name`, 'Use --secret NAME,target=ENV_VAR.');
    if (!ENV_NAME.test(target)) throw badRequest(`"${target}" (target of secret "${name}") is not an environment variable name`, 'Use --secret NAME,target=ENV_VAR.');
    return { name, target };
  });
}

/** Names and values Node would refuse to send are refused here, not per request. */
function checkHeaders(headers: Record<string, string>): Record<string, string> {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
    } catch {
      throw badRequest(`"${name.replace(/[^\x20-\x7e]/g, '?')}" is not a valid header name`, 'Header names are letters, digits and !#$%&\'*+.^_`|~-.');
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      // The value itself is not echoed: it may be a credential.
      throw badRequest(`the value of header "${name}" contains characters that cannot be sent (control characters or line breaks)`, 'Remove them from the --remote-header value.');
    }
  }
  return headers;
}

/** The run config's `remote_auth`; secret values are queued in `toStore` and referenced by key. */
function remoteAuthConfig(name: string, input: RemoteAuthInput, toStore: StoredCredential[]): RemoteAuthConfig {
  const auth: RemoteAuthConfig = { enabled: Boolean(input.enabled || input.issuer || input.clientId) };
  if (input.issuer) auth.issuer = input.issuer;
  if (input.clientId) auth.client_id = input.clientId;
  if (input.scopes?.length) auth.scopes = input.scopes;
  if (input.resource) auth.resource = input.resource;
  if (input.callbackPort !== undefined) auth.callback_port = input.callbackPort;
  if (input.skipBrowser) auth.skip_browser = true;
  if (input.timeout) auth.timeout = input.timeout;
  if (input.clientSecretFile) auth.client_secret_file = input.clientSecretFile;
  if (input.bearerTokenFile) auth.bearer_token_file = input.bearerTokenFile;
  if (input.clientSecret) {
    auth.client_secret_ref = workloadSecretKey(name, 'CLIENT_SECRET');
    toStore.push({ key: auth.client_secret_ref, value: input.clientSecret });
  }
  if (input.bearerToken) {
    auth.bearer_token_ref = workloadSecretKey(name, 'BEARER_TOKEN');
    toStore.push({ key: auth.bearer_token_ref, value: input.bearerToken });
  }
  return auth;
}

const SECRET_HEADER_NAMES = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** Whether a header's value is a credential, kept in the secrets store rather than the run config. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADER_NAMES.has(lower) || /token|secret|key|password|auth/.test(lower);
}

function splitSecretHeaders(headers: Record<string, string>): { plain: Record<string, string>; secret: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) (isSecretHeader(name) ? secret : plain)[name] = value;
  return { plain, secret };
}

function deleteHeader(headers: Record<string, string>, name: string): void {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
}

/**
 * Secrets-store keys of a workload's credentials: `WORKLOAD_<name>:<what>`, with a header's name kept
 * verbatim (`WORKLOAD_a:HEADER:Authorization`). Neither workload names nor header names can contain
 * ":", so different (workload, credential) pairs never share a key, nor one with the OAuth state key
 * `WORKLOAD_<name>_OAUTH` (no ":"; docs/remote-auth.md#credential-keys). Older workloads keep working:
 * their run config records the keys they use.
 */
export function workloadSecretKey(workload: string, what: 'CLIENT_SECRET' | 'BEARER_TOKEN'): string {
  return `WORKLOAD_${workload}:${what}`;
}

export function headerSecretKey(workload: string, header: string): string {
  return `WORKLOAD_${workload}:HEADER:${header}`;
}

/** `--volume` mounts on top of the profile (the built-in `none` when there is none), checked like the profile's own. */
function withVolumes(profile: PermissionProfile | undefined, volumes: Array<{ declaration: string; writable: boolean }>): PermissionProfile {
  const base: PermissionProfile = profile ? structuredClone(profile) : { name: 'none', read: [], write: [], network: { outbound: { insecure_allow_all: false, allow_host: [], allow_port: [] } }, privileged: false };
  for (const v of volumes) {
    parseMount(v.declaration, v.writable);
    (v.writable ? (base.write ??= []) : (base.read ??= [])).push(v.declaration);
  }
  return base;
}
