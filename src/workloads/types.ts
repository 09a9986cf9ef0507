import { z } from 'zod';

/** SPEC §5 statuses. */
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

/** The status file, exactly these fields (SPEC §5). */
export interface StatusFile {
  status: WorkloadStatus;
  status_context: string;
  created_at: string;
  updated_at: string;
  process_id: number;
}

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

const remoteAuthSchema = z.object({
  enabled: z.boolean().default(false),
  issuer: z.string().optional(),
  client_id: z.string().optional(),
  /** Secrets-store key (workloads scope) of the client secret; never the secret itself. */
  client_secret_ref: z.string().optional(),
  client_secret_file: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  resource: z.string().optional(),
  callback_port: z.number().int().optional(),
  skip_browser: z.boolean().optional(),
  timeout: z.string().optional(),
  /** Secrets-store key (workloads scope) of a static bearer token; never the token itself. */
  bearer_token_ref: z.string().optional(),
  bearer_token_file: z.string().optional(),
}).passthrough();
export type RemoteAuthConfig = z.infer<typeof remoteAuthSchema>;

export const runConfigSchema = z.object({
  schema_version: z.literal(1),
  name: z.string().regex(NAME_PATTERN),
  group: z.string(),
  /** What the user asked to run, as typed, and how it was understood. */
  source: z.object({
    kind: z.enum(['command', 'npx', 'uvx', 'registry', 'remote']),
    ref: z.string(),
    registry_name: z.string().optional(),
    package: z.string().optional(),
  }),
  /** Stdio servers: the program and its arguments, spawned without a shell. */
  command: z.string().optional(),
  args: z.array(z.string()).default([]),
  /** Remote servers: the upstream MCP URL. */
  remote_url: z.string().optional(),
  /** stdio for local processes; for remotes, the upstream's transport. */
  transport: z.enum(['stdio', 'sse', 'streamable-http']),
  /** The endpoint printed for clients of a stdio workload (both are served). */
  proxy_mode: z.enum(['streamable-http', 'sse']).default('streamable-http'),
  host: z.string(),
  port: z.number().int().min(0).max(65535).optional(),
  /** true when the user chose the port; otherwise a taken port is replaced by a free one on start. */
  port_fixed: z.boolean().default(false),
  /** Plain `-e K=V` values. Secret values are never stored: see `secrets`. */
  env: z.record(z.string(), z.string()).default({}),
  secrets: z.array(z.object({ name: z.string(), target: z.string() })).default([]),
  /** Headers added to every request sent to a remote. */
  headers: z.record(z.string(), z.string()).default({}),
  remote_auth: remoteAuthSchema.optional(),
  created_at: z.string(),
  /** Where a local command was started from, so relative paths keep working on restart. */
  cwd: z.string().optional(),
});
export type RunConfig = z.infer<typeof runConfigSchema>;

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
}

/** The URL a client connects to (SPEC §5). */
export function workloadUrl(config: RunConfig, port = config.port ?? 0): string {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = `http://${host}:${port}`;
  if (config.remote_url) {
    const remote = new URL(config.remote_url);
    return `${base}${remote.pathname}${remote.search}`;
  }
  return config.proxy_mode === 'sse' ? `${base}/sse#${config.name}` : `${base}/mcp`;
}
