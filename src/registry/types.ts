/**
 * The catalog model every provider produces, in ToolHive's field names (snake_case), so `--format
 * json` and the REST API read like ToolHive's. Upstream server.json entries are converted into it by
 * convert.ts.
 */
export interface EnvVar {
  name: string;
  description?: string;
  required?: boolean;
  secret?: boolean;
  default?: string;
}

export interface Header {
  name: string;
  description?: string;
  required?: boolean;
  secret?: boolean;
  default?: string;
}

/** A package `thv run` can start as a process, kept beside (or instead of) the OCI image. */
export interface PackageRef {
  registry_type: 'npm' | 'pypi' | 'oci';
  identifier: string;
  version?: string;
  runtime_hint?: string;
  transport?: string;
  /** Fixed package arguments (server.json packageArguments with a value), in command-line order. */
  args?: string[];
}

export interface ServerMetadataBlock {
  stars?: number;
  pulls?: number;
  last_updated?: string;
  [key: string]: unknown;
}

interface BaseServer {
  /** Full reverse-DNS name, e.g. `io.github.stacklok/fetch`. */
  name: string;
  title?: string;
  description: string;
  tier?: string;
  status?: string;
  transport?: string;
  tools?: string[];
  metadata?: ServerMetadataBlock;
  repository_url?: string;
  tags?: string[];
  overview?: string;
  tool_definitions?: unknown[];
  custom_metadata?: Record<string, unknown>;
  env_vars?: EnvVar[];
}

/** A server run locally: from an OCI image, or as an npm/PyPI package process. */
export interface ImageMetadata extends BaseServer {
  image?: string;
  target_port?: number;
  permissions?: Record<string, unknown>;
  provenance?: Record<string, unknown>;
  docker_tags?: string[];
  proxy_port?: number;
  args?: string[];
  packages?: PackageRef[];
}

export interface RemoteServerMetadata extends BaseServer {
  url: string;
  headers?: Header[];
  oauth_config?: Record<string, unknown>;
}

export type CatalogServer = ImageMetadata | RemoteServerMetadata;

export function isRemoteServer(server: CatalogServer): server is RemoteServerMetadata {
  return typeof (server as RemoteServerMetadata).url === 'string';
}

export interface Catalog {
  version?: string;
  last_updated?: string;
  servers: ImageMetadata[];
  remote_servers: RemoteServerMetadata[];
}

export function allServers(catalog: Catalog): CatalogServer[] {
  return [...catalog.servers, ...catalog.remote_servers];
}

/** Set when a cached copy was served because the registry failed transiently (docs/registry.md#caching-what-a-failing-registry-looks-like). */
export interface StaleMarker {
  /** What went wrong upstream, safe to show. */
  error: string;
  /** When the served data was fetched (ms since epoch). */
  fetchedAt: number;
}

export interface RegistryListing {
  catalog: Catalog;
  /** Human description of the source: "embedded catalog", a file path or a URL. */
  source: string;
  stale?: StaleMarker;
}

/** An upstream server.json (MCP Registry schema 2025-12-11); only the fields thv reads are typed. */
export interface ServerJson {
  $schema?: string;
  name: string;
  title?: string;
  description?: string;
  version?: string;
  repository?: { url?: string; source?: string; [k: string]: unknown };
  packages?: Array<{
    registryType: string;
    identifier: string;
    version?: string;
    runtimeHint?: string;
    transport?: { type: string; url?: string };
    environmentVariables?: Array<{ name: string; description?: string; isRequired?: boolean; isSecret?: boolean; default?: string }>;
    packageArguments?: unknown[];
    runtimeArguments?: unknown[];
    [k: string]: unknown;
  }>;
  remotes?: Array<{
    type: string;
    url: string;
    headers?: Array<{ name: string; description?: string; isRequired?: boolean; isSecret?: boolean; default?: string }>;
  }>;
  _meta?: Record<string, unknown>;
  [k: string]: unknown;
}

export const PUBLISHER_PROVIDED = 'io.modelcontextprotocol.registry/publisher-provided';
export const STACKLOK_NAMESPACE = 'io.github.stacklok';
