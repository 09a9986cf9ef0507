/**
 * Maps upstream server.json entries (MCP Registry schema 2025-12-11) to the catalog model and back.
 * ToolHive keeps what server.json has no field for under
 * `_meta[PUBLISHER_PROVIDED][STACKLOK_NAMESPACE][<image ref or remote url>]`; the golden fixtures in
 * shared/data/registry/converter-fixtures/ pin the mapping in both directions.
 */
import {
  PUBLISHER_PROVIDED,
  STACKLOK_NAMESPACE,
  type CatalogServer,
  type EnvVar,
  type Header,
  type ImageMetadata,
  type PackageRef,
  type RemoteServerMetadata,
  type ServerJson,
} from './types.js';

export const SERVER_JSON_SCHEMA = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';

/** The version given to server.json entries made from legacy entries, which have none. */
const LEGACY_SERVER_VERSION = '1.0.0';

type PackageEntry = NonNullable<ServerJson['packages']>[number];
type RemoteEntry = NonNullable<ServerJson['remotes']>[number];
type InputEntry = NonNullable<PackageEntry['environmentVariables']>[number];
type Extension = Record<string, unknown>;

export type ConversionResult = { server: CatalogServer } | { skipped: string };

const RUNNABLE_TYPES = ['oci', 'npm', 'pypi'] as const;
type RunnableType = (typeof RUNNABLE_TYPES)[number];
const DEFAULT_RUNTIME_HINT: Partial<Record<RunnableType, string>> = { npm: 'npx', pypi: 'uvx' };
const HTTP_TRANSPORTS = new Set(['streamable-http', 'sse']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRunnable(pkg: unknown): pkg is PackageEntry & { registryType: RunnableType } {
  return (
    isRecord(pkg) &&
    typeof pkg.identifier === 'string' &&
    pkg.identifier !== '' &&
    (RUNNABLE_TYPES as readonly unknown[]).includes(pkg.registryType)
  );
}

function isUsableRemote(remote: unknown): remote is RemoteEntry {
  return isRecord(remote) && typeof remote.url === 'string' && remote.url !== '' && typeof remote.type === 'string';
}

/** Drops keys whose value is undefined, so converted objects deep-equal their golden files. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function recordOf(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

function stringsOf(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

function stacklokExtension(entry: ServerJson, key: string): Extension {
  const publisher = recordOf(recordOf(entry._meta)?.[PUBLISHER_PROVIDED]);
  return recordOf(recordOf(publisher?.[STACKLOK_NAMESPACE])?.[key]) ?? {};
}

/** ToolHive always serialises a tool's annotations, so an absent one reads as `{}`. */
function withAnnotations(definitions: unknown): unknown[] | undefined {
  if (!Array.isArray(definitions)) return undefined;
  return definitions.map((def) => (isRecord(def) && !('annotations' in def) ? { annotations: {}, ...def } : def));
}

function inputToCatalog(input: InputEntry): EnvVar {
  return compact({
    name: input.name,
    description: stringOf(input.description),
    required: input.isRequired === true,
    secret: input.isSecret === true ? true : undefined,
    default: stringOf(input.default),
  });
}

function catalogToInput(item: EnvVar | Header): InputEntry {
  return compact({
    name: item.name,
    description: item.description,
    isRequired: item.required === true ? true : undefined,
    isSecret: item.secret === true ? true : undefined,
    default: item.default,
  });
}

function inputsOf(value: unknown): InputEntry[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((v): v is InputEntry => isRecord(v) && typeof v.name === 'string');
}

function envVarsOf(value: unknown): EnvVar[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((v): v is EnvVar => isRecord(v) && typeof v.name === 'string');
}

/**
 * The port an HTTP transport's url names, e.g. 8080 from `http://localhost:8080/mcp`. Read from the
 * text rather than via URL, which hides a scheme's default port (`http://localhost:80`).
 */
function portOf(transport: PackageEntry['transport']): number | undefined {
  if (!transport || !HTTP_TRANSPORTS.has(transport.type) || typeof transport.url !== 'string') return undefined;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(\d{1,5})(?:[/?#]|$)/i.exec(transport.url);
  const port = match ? Number(match[1]) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Only arguments with a fixed value can be put on a command line without asking the user. */
function fixedArguments(args: unknown): string[] | undefined {
  if (!Array.isArray(args)) return undefined;
  const out: string[] = [];
  for (const arg of args) {
    if (!isRecord(arg)) continue;
    if (arg.type === 'positional' && typeof arg.value === 'string') out.push(arg.value);
    if (arg.type === 'named' && typeof arg.name === 'string') {
      out.push(arg.name);
      if (typeof arg.value === 'string') out.push(arg.value);
    }
  }
  return out.length > 0 ? out : undefined;
}

function toPackageRef(pkg: PackageEntry & { registryType: RunnableType }): PackageRef {
  return compact({
    registry_type: pkg.registryType,
    identifier: pkg.identifier,
    version: stringOf(pkg.version),
    runtime_hint: stringOf(pkg.runtimeHint) ?? DEFAULT_RUNTIME_HINT[pkg.registryType],
    transport: stringOf(pkg.transport?.type),
    args: fixedArguments(pkg.packageArguments),
  });
}

/** Fields both kinds of catalog server take from the entry and its extension. */
function commonFields(entry: ServerJson, ext: Extension) {
  return {
    name: entry.name,
    title: stringOf(entry.title),
    description: stringOf(entry.description) ?? '',
    overview: stringOf(ext.overview),
    tool_definitions: withAnnotations(ext.tool_definitions),
    tier: stringOf(ext.tier),
    status: stringOf(ext.status),
  };
}

function toImageMetadata(entry: ServerJson, runnable: Array<PackageEntry & { registryType: RunnableType }>): ImageMetadata {
  const primary = runnable.find((p) => p.registryType === 'oci') ?? runnable[0]!;
  const ext = stacklokExtension(entry, primary.identifier);
  const hasProcessPackage = runnable.some((p) => p.registryType !== 'oci');
  return compact({
    ...commonFields(entry, ext),
    transport: stringOf(primary.transport?.type) ?? stringOf(ext.transport) ?? 'stdio',
    tools: stringsOf(ext.tools),
    metadata: recordOf(ext.metadata),
    repository_url: stringOf(entry.repository?.url),
    tags: stringsOf(ext.tags),
    image: primary.registryType === 'oci' ? primary.identifier : undefined,
    target_port: portOf(primary.transport) ?? numberOf(ext.target_port),
    permissions: recordOf(ext.permissions),
    env_vars: inputsOf(primary.environmentVariables)?.map(inputToCatalog) ?? envVarsOf(ext.env_vars),
    args: stringsOf(ext.args),
    provenance: recordOf(ext.provenance),
    docker_tags: stringsOf(ext.docker_tags),
    proxy_port: numberOf(ext.proxy_port),
    custom_metadata: recordOf(ext.custom_metadata),
    packages: hasProcessPackage ? runnable.map(toPackageRef) : undefined,
  });
}

function toRemoteMetadata(entry: ServerJson, remote: RemoteEntry): RemoteServerMetadata {
  const ext = stacklokExtension(entry, remote.url);
  return compact({
    ...commonFields(entry, ext),
    transport: remote.type,
    tools: stringsOf(ext.tools),
    metadata: recordOf(ext.metadata),
    repository_url: stringOf(entry.repository?.url),
    tags: stringsOf(ext.tags),
    url: remote.url,
    headers: inputsOf(remote.headers)?.map(inputToCatalog),
    env_vars: envVarsOf(ext.env_vars),
    oauth_config: recordOf(ext.oauth_config),
    custom_metadata: recordOf(ext.custom_metadata),
  });
}

/**
 * One server.json entry as a catalog server: a package server when it has an OCI, npm or PyPI
 * package (OCI preferred as `image`), otherwise a remote server. Never throws; anything else is
 * skipped with a reason that names the entry.
 */
export function serverJsonToCatalogServer(entry: ServerJson): ConversionResult {
  if (!isRecord(entry) || typeof entry.name !== 'string' || entry.name === '') {
    return { skipped: 'server entry has no name' };
  }
  const packages: unknown[] = Array.isArray(entry.packages) ? entry.packages : [];
  const runnable = packages.filter(isRunnable);
  if (runnable.length > 0) return { server: toImageMetadata(entry, runnable) };
  const remote = (Array.isArray(entry.remotes) ? (entry.remotes as unknown[]) : []).find(isUsableRemote);
  if (remote) return { server: toRemoteMetadata(entry, remote) };
  const types = packages.map((p) => (isRecord(p) ? String(p.registryType) : 'invalid'));
  const what = types.length > 0 ? `only ${[...new Set(types)].join(', ')} packages` : 'no packages';
  return { skipped: `${entry.name}: ${what} and no remote; thv can run oci, npm and pypi packages or remotes` };
}

function repositoryOf(url: string | undefined): ServerJson['repository'] {
  if (!url) return undefined;
  let host = '';
  try {
    host = new URL(url).hostname;
  } catch {
    // Not a URL: keep it anyway, the source is then unknown.
  }
  if (host === 'github.com' || host.endsWith('.github.com')) return { url, source: 'github' };
  if (host === 'gitlab.com') return { url, source: 'gitlab' };
  return { url, source: host || 'unknown' };
}

function serverJsonBase(shortName: string, server: CatalogServer) {
  return compact({
    $schema: SERVER_JSON_SCHEMA,
    name: `${STACKLOK_NAMESPACE}/${shortName}`,
    title: server.title,
    description: server.description,
    repository: repositoryOf(server.repository_url),
    version: LEGACY_SERVER_VERSION,
  });
}

function withExtension(key: string, ext: Extension): Record<string, unknown> {
  return { [PUBLISHER_PROVIDED]: { [STACKLOK_NAMESPACE]: { [key]: compact(ext) } } };
}

function sharedExtension(server: CatalogServer): Extension {
  return {
    status: server.status,
    tier: server.tier,
    tools: server.tools,
    tags: server.tags,
    metadata: server.metadata,
    overview: server.overview,
    tool_definitions: withAnnotations(server.tool_definitions),
    custom_metadata: server.custom_metadata,
  };
}

/** A legacy `servers` entry as the server.json ToolHive publishes for it. */
export function legacyImageToServerJson(shortName: string, image: ImageMetadata): ServerJson {
  if (!image.image) throw new Error(`legacy server ${shortName} has no image`);
  const transport = image.transport ?? 'stdio';
  const isHttp = HTTP_TRANSPORTS.has(transport) && image.target_port !== undefined;
  const envVars = image.env_vars?.map(catalogToInput);
  const pkg: PackageEntry = compact({
    registryType: 'oci',
    identifier: image.image,
    transport: compact({ type: transport, url: isHttp ? `http://localhost:${image.target_port}` : undefined }),
    environmentVariables: envVars && envVars.length > 0 ? envVars : undefined,
  });
  return {
    ...serverJsonBase(shortName, image),
    packages: [pkg],
    _meta: withExtension(image.image, {
      ...sharedExtension(image),
      permissions: image.permissions,
      provenance: image.provenance,
      args: image.args,
      docker_tags: image.docker_tags,
      proxy_port: image.proxy_port,
      // Only a stdio server's port has no place in the transport url.
      target_port: isHttp ? undefined : image.target_port,
    }),
  };
}

/** A legacy `remote_servers` entry as the server.json ToolHive publishes for it. */
export function legacyRemoteToServerJson(shortName: string, remote: RemoteServerMetadata): ServerJson {
  const headers = remote.headers?.map(catalogToInput);
  return {
    ...serverJsonBase(shortName, remote),
    remotes: [
      compact({ type: remote.transport ?? 'streamable-http', url: remote.url, headers: headers && headers.length > 0 ? headers : undefined }),
    ],
    _meta: withExtension(remote.url, {
      ...sharedExtension(remote),
      env_vars: remote.env_vars,
      oauth_config: remote.oauth_config,
    }),
  };
}
