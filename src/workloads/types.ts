import type { PermissionProfile } from '../isolation/profile.js';
import { isolationSummary } from './isolation.js';
import { RUNTIME_KINDS, type RuntimeKind } from '../runtimes/types.js';

/** Workload statuses (docs/workloads.md#commands). */
export const WORKLOAD_STATUSES = [
  'starting',
  'running',
  'stopping',
  'stopped',
  'error',
  'unhealthy',
  'removing',
  'unknown',
  'unauthenticated',
  'auth_retrying',
] as const;
export type WorkloadStatus = (typeof WORKLOAD_STATUSES)[number];

/** Statuses in which a live supervisor process is expected. */
export const LIVE_STATUSES: ReadonlySet<WorkloadStatus> = new Set([
  'starting',
  'running',
  'stopping',
  'unhealthy',
  'unauthenticated',
  'auth_retrying',
]);

import { LOGIN_REQUIRED_CONTEXT } from '../auth/remote/login-required.js';
export { LOGIN_REQUIRED_CONTEXT };

/** The status file, exactly these fields (docs/workloads.md#files). */
export interface StatusFile {
  status: WorkloadStatus;
  status_context: string;
  created_at: string;
  updated_at: string;
  process_id: number;
}

/** The runtime of a run config that names none (written before runtimes existed). */
export const DEFAULT_RUNTIME: RuntimeKind = 'none';

export { NAME_PATTERN } from '../core/names.js';
import { NAME_PATTERN } from '../core/names.js';

/**
 * `remote_auth` in a run config: the §5.2 flags, never a secret value — bearer tokens and client
 * secrets are stored in the secrets store (workloads scope) and referenced by key. Remote-auth code
 * may add fields; unknown ones are kept.
 */
export interface RemoteAuthConfig {
  enabled: boolean;
  issuer?: string;
  client_id?: string;
  /** Secrets-store key (workloads scope) of the client secret; never the secret itself. */
  client_secret_ref?: string;
  client_secret_file?: string;
  scopes?: string[];
  resource?: string;
  callback_port?: number;
  skip_browser?: boolean;
  timeout?: string;
  /** Secrets-store key (workloads scope) of a static bearer token; never the token itself. */
  bearer_token_ref?: string;
  bearer_token_file?: string;
  [extra: string]: unknown;
}

export type WorkloadTransport = 'stdio' | 'sse' | 'streamable-http';

/** Everything needed to start a workload again (docs/workloads.md#files), and no secret values. */
export interface RunConfig {
  schema_version: 1;
  name: string;
  group: string;
  /** What the user asked to run, as typed, and how it was understood. */
  source: { kind: 'command' | 'npx' | 'uvx' | 'go' | 'image' | 'registry' | 'remote'; ref: string; registry_name?: string; package?: string };
  /** Stdio servers: the program and its arguments, spawned without a shell. */
  command?: string;
  args: string[];
  /** Remote servers: the upstream MCP URL. */
  remote_url?: string;
  /** stdio for local processes; for remotes, the upstream's transport. */
  transport: WorkloadTransport;
  /** The endpoint printed for clients of a stdio workload (both are served). */
  proxy_mode: 'streamable-http' | 'sse';
  host: string;
  port?: number;
  /** true when the user chose the port; otherwise a taken port is replaced by a free one on start. */
  port_fixed: boolean;
  /** Plain `-e K=V` values. Secret values are never stored: see `secrets`. */
  env: Record<string, string>;
  secrets: Array<{ name: string; target: string }>;
  /** Headers added to every request sent to a remote. */
  headers: Record<string, string>;
  /** Headers whose values are credentials: header name → secrets-store key (workloads scope); never the value. */
  header_refs?: Record<string, string>;
  remote_auth?: RemoteAuthConfig;
  created_at: string;
  /** Where a local command was started from, so relative paths keep working on restart. */
  cwd?: string;
  /** How the server is started (docs/architecture.md, "The Runtime seam"); 'none': a host process. */
  runtime: RuntimeKind;
  /** The resolved permission profile the runtime enforces; absent: the built-in `none`. */
  permission_profile?: PermissionProfile;
  /** Container runtime: the image to run (pulled or built by `thv run`; docs/runtimes.md). */
  image?: string;
  /** Container runtime, http servers: the port the server listens on inside the container. */
  target_port?: number;
}

/**
 * Checks a parsed run config. Hand-written rather than a schema library because the supervisor
 * loads it, and every megabyte there is paid once per running workload.
 */
export function parseRunConfig(raw: unknown): { config: RunConfig } | { path: string; problem: string } {
  const fail = (path: string, problem: string) => ({ path, problem });
  if (!isObject(raw)) return fail('(root)', 'expected an object');
  if (raw.schema_version !== 1) return fail('schema_version', 'expected 1');
  if (typeof raw.name !== 'string' || !NAME_PATTERN.test(raw.name)) return fail('name', 'expected a workload name');
  for (const key of ['group', 'host', 'created_at'] as const) if (typeof raw[key] !== 'string') return fail(key, 'expected a string');
  const source = raw.source;
  if (!isObject(source) || !['command', 'npx', 'uvx', 'go', 'image', 'registry', 'remote'].includes(source.kind as string) || typeof source.ref !== 'string') {
    return fail('source', 'expected {kind, ref}');
  }
  for (const key of ['command', 'remote_url', 'cwd', 'image'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') return fail(key, 'expected a string');
  }
  if (raw.command === undefined && raw.remote_url === undefined && raw.image === undefined) return fail('command', 'a command, an image or a remote_url is required');
  if (raw.target_port !== undefined && !(Number.isInteger(raw.target_port) && (raw.target_port as number) >= 1 && (raw.target_port as number) <= 65535)) return fail('target_port', 'expected a port number');
  if (raw.args !== undefined && !isStringArray(raw.args)) return fail('args', 'expected an array of strings');
  if (!['stdio', 'sse', 'streamable-http'].includes(raw.transport as string)) return fail('transport', 'expected stdio, sse or streamable-http');
  if (raw.proxy_mode !== undefined && !['streamable-http', 'sse'].includes(raw.proxy_mode as string)) return fail('proxy_mode', 'expected streamable-http or sse');
  if (raw.port !== undefined && !(Number.isInteger(raw.port) && (raw.port as number) >= 0 && (raw.port as number) <= 65535)) return fail('port', 'expected a port number');
  for (const key of ['env', 'headers', 'header_refs'] as const) {
    if (raw[key] !== undefined && !(isObject(raw[key]) && Object.values(raw[key]).every((v) => typeof v === 'string'))) return fail(key, 'expected an object of strings');
  }
  if (raw.secrets !== undefined && !(Array.isArray(raw.secrets) && raw.secrets.every((s) => isObject(s) && typeof s.name === 'string' && typeof s.target === 'string'))) {
    return fail('secrets', 'expected [{name, target}]');
  }
  if (raw.remote_auth !== undefined && !isObject(raw.remote_auth)) return fail('remote_auth', 'expected an object');
  if (raw.runtime !== undefined && !RUNTIME_KINDS.includes(raw.runtime as RuntimeKind)) return fail('runtime', `expected ${RUNTIME_KINDS.join(', ')}`);
  // `isolation` is accepted as an alias of `runtime` (docs/isolation.md): `"isolation": "none"` runs unconfined.
  if (raw.isolation !== undefined && !RUNTIME_KINDS.includes(raw.isolation as RuntimeKind)) return fail('isolation', `expected ${RUNTIME_KINDS.join(', ')}`);
  if (raw.runtime !== undefined && raw.isolation !== undefined && raw.runtime !== raw.isolation) return fail('isolation', 'contradicts runtime');
  if (raw.permission_profile !== undefined && !isObject(raw.permission_profile)) return fail('permission_profile', 'expected an object');
  const config = {
    ...raw,
    args: raw.args ?? [],
    proxy_mode: raw.proxy_mode ?? 'streamable-http',
    port_fixed: raw.port_fixed === true,
    env: raw.env ?? {},
    secrets: raw.secrets ?? [],
    headers: raw.headers ?? {},
    runtime: raw.runtime ?? raw.isolation ?? DEFAULT_RUNTIME,
    ...(raw.remote_auth ? { remote_auth: { ...(raw.remote_auth as object), enabled: (raw.remote_auth as Record<string, unknown>).enabled === true } } : {}),
  } as unknown as RunConfig;
  return { config };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** One row of `thv list` / `GET /workloads`, in ToolHive's field names. */
export interface WorkloadInfo {
  name: string;
  package: string;
  url: string;
  port: number;
  tool_type: 'mcp';
  transport_type: RunConfig['transport'];
  proxy_mode: RunConfig['proxy_mode'];
  status: WorkloadStatus;
  status_context: string;
  created_at: string;
  group: string;
  remote: boolean;
  process_id: number;
  /** How the server runs (docs/isolation.md). */
  runtime?: RunConfig['runtime'];
  /** The isolation in force, e.g. `sandbox (bubblewrap), profile none (no network)`. */
  isolation?: string;
  /** The resolved permission profile stored in the run config. */
  permission_profile?: PermissionProfile;
  /** A remote OAuth login waits for the user at this authorization URL (docs/remote-auth.md#headless-machines). */
  login_url?: string;
}

/** The authorization URL of a login that waits for the user, from the status context the supervisor wrote. */
export function loginUrlOf(status: Pick<StatusFile, 'status' | 'status_context'> | undefined): string | undefined {
  if (status?.status !== 'unauthenticated' || !status.status_context.startsWith(LOGIN_REQUIRED_CONTEXT)) return undefined;
  return status.status_context.slice(LOGIN_REQUIRED_CONTEXT.length).trim() || undefined;
}

/** The row of a workload: its run config, and its (reconciled) status file when it has one. */
export function toWorkloadInfo(config: RunConfig, status: StatusFile | undefined): WorkloadInfo {
  return {
    name: config.name,
    package: config.source.package ?? config.source.registry_name ?? config.remote_url ?? config.source.ref,
    url: workloadUrl(config),
    port: config.port ?? 0,
    tool_type: 'mcp',
    transport_type: config.transport,
    proxy_mode: config.proxy_mode,
    status: status?.status ?? 'stopped',
    status_context: status?.status_context ?? '',
    created_at: config.created_at,
    group: config.group,
    remote: Boolean(config.remote_url),
    process_id: status && LIVE_STATUSES.has(status.status) ? status.process_id : 0,
    runtime: config.runtime,
    isolation: isolationSummary(config),
    ...(config.permission_profile ? { permission_profile: config.permission_profile } : {}),
    ...(loginUrlOf(status) ? { login_url: loginUrlOf(status)! } : {}),
  };
}

/**
 * Told when a workload has started or stopped (e.g. to keep AI clients' config files current,
 * docs/clients.md). Supplied by the layer above; a failing observer never fails the operation.
 */
export interface WorkloadObserver {
  started?(workload: WorkloadInfo): Promise<void>;
  stopped?(workload: Pick<WorkloadInfo, 'name' | 'group'>): Promise<void>;
}

/** The URL a client connects to (docs/workloads.md#commands). */
export function workloadUrl(config: RunConfig, port = config.port ?? 0): string {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = `http://${host}:${port}`;
  if (config.remote_url) {
    const remote = new URL(config.remote_url);
    return `${base}${remote.pathname}${remote.search}`;
  }
  return config.proxy_mode === 'sse' ? `${base}/sse#${config.name}` : `${base}/mcp`;
}
