import { accessSync, constants } from 'node:fs';
import { basename, delimiter, extname, isAbsolute, join, resolve } from 'node:path';
import { ThvError, badRequest, isThvError } from '../core/errors.js';
import type { CatalogServer, ImageMetadata, PackageRef } from '../registry/types.js';
import { isRemoteServer } from '../registry/types.js';
import type { RunConfig } from './types.js';
import { envText } from '../core/env.js';

/** What `thv run` was asked to run, before names, ports and env are applied. */
export interface ResolvedSource {
  source: RunConfig['source'];
  command?: string;
  args: string[];
  remoteUrl?: string;
  transport: RunConfig['transport'];
  /** Header defaults from a registry remote entry. */
  headers: Record<string, string>;
  /** A name to use when the user gave none. */
  suggestedName: string;
  /** Environment variables the registry entry marks as required (checked against -e and --secret). */
  requiredEnv?: Array<{ name: string; secret: boolean; description?: string }>;
  /** The registry entry's permission profile (ToolHive format), applied when the user gives none. */
  permissions?: unknown;
  /** An OCI image (an image reference, go://, or an image-only registry entry): needs the container runtime. */
  image?: string;
  /** The registry entry's `target_port` (http servers in a container). */
  targetPort?: number;
  /**
   * A package the container runtime can build an image for (`npx://pkg@ver`, `uvx://pkg@ver`);
   * `command` is then the host runner, absent when it is not installed (fine for a container).
   */
  buildRef?: string;
  /** Why the host runner is missing, raised when the runtime is not the container one. */
  runnerMissing?: ThvError;
  /** Extra arguments for an image's command (a package's own arguments are in `args`). */
  imageArgs?: string[];
}

export interface SourceDeps {
  env: NodeJS.ProcessEnv;
  /** Looks a server up in the configured registry (docs/registry.md); auth errors must propagate unchanged. */
  getServer: (name: string) => Promise<CatalogServer>;
  /** Where a relative command path (`./server`) is looked up; the process's own by default. */
  cwd?: string;
}

/**
 * Resolves `thv run <target> [-- args]` or `thv run -- <command…>` (docs/workloads.md#commands).
 * `extraArgs` are appended to a package's command line.
 */
export async function resolveSource(target: string | undefined, commandLine: string[], deps: SourceDeps, transportFlag?: RunConfig['transport']): Promise<ResolvedSource> {
  if (target === undefined) {
    const [command, ...args] = commandLine;
    if (!command) throw badRequest('nothing to run', 'Give a registry name, npx://pkg, uvx://pkg, a URL, or `-- <command> [args]`.');
    // A local command always speaks stdio; --transport only picks the endpoint printed (both are served).
    // Checked now so a typo fails before anything is written, not later in the supervisor.
    if (command.includes('/')) {
      const path = resolve(deps.cwd ?? process.cwd(), command);
      if (!isExecutable(path)) throw new ThvError('runtime_unavailable', `command "${command}" does not exist or is not executable`, { hint: 'Check the path of the command.' });
    } else if (!findOnPath(command, deps.env)) {
      throw new ThvError('runtime_unavailable', `command "${command}" was not found on PATH`, { hint: 'Check the command, or give its full path.' });
    }
    return { source: { kind: 'command', ref: [command, ...args].join(' ') }, command, args, transport: 'stdio', headers: {}, suggestedName: nameFromCommand(command, args) };
  }
  if (target.startsWith('npx://')) return packageSource('npx', target.slice(6), commandLine, deps.env, target);
  if (target.startsWith('uvx://')) return packageSource('uvx', target.slice(6), commandLine, deps.env, target);
  if (target.startsWith('go://')) return goSource(target, commandLine);
  if (/^https?:\/\//i.test(target)) return remoteSource(target, transportFlag);
  return registrySource(target, commandLine, deps, transportFlag);
}

/** `go://module@ver`: only the container runtime runs it, from an image built for it. */
function goSource(ref: string, extraArgs: string[]): ResolvedSource {
  const spec = ref.slice('go://'.length);
  if (!spec || spec.startsWith('-')) throw badRequest(`"${ref}" does not name a Go module`, 'Use go://<module path>[@version].');
  return { source: { kind: 'go', ref, package: spec }, args: [], image: ref, buildRef: ref, imageArgs: extraArgs, transport: 'stdio', headers: {}, suggestedName: nameFromPackage(spec) };
}

/** An image reference (`registry/name[:tag]`, `name:tag`, `…@sha256:…`) rather than a registry server name. */
export function looksLikeImageRef(target: string): boolean {
  return /^[a-z0-9][a-z0-9._-]*(:[0-9]+)?(\/[a-z0-9][a-z0-9._-]*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/.test(target) || /^[a-z0-9][a-z0-9._-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/.test(target);
}

function imageSource(image: string, extraArgs: string[], transportFlag?: RunConfig['transport']): ResolvedSource {
  const last = image.split('/').pop() ?? image;
  // A bare image speaks stdio unless --transport says it serves SSE or streamable HTTP (docs/runtimes.md).
  return { source: { kind: 'image', ref: image }, args: [], image, imageArgs: extraArgs, transport: transportFlag ?? 'stdio', headers: {}, suggestedName: sanitiseName(last.replace(/[:@].*$/, '')) };
}

function packageSource(runner: 'npx' | 'uvx', spec: string, extraArgs: string[], env: NodeJS.ProcessEnv, ref: string, registryName?: string): ResolvedSource {
  if (!spec || spec.startsWith('-')) throw badRequest(`"${ref}" does not name a package`, `Use ${runner}://<package>[@version].`);
  // The host runner matters only outside a container: its absence is raised once the runtime is chosen.
  let command: string | undefined;
  let runnerMissing: ThvError | undefined;
  try {
    command = requireOnPath(runner, env);
  } catch (err) {
    if (!isThvError(err, 'runtime_unavailable')) throw err;
    runnerMissing = err;
  }
  const args = runner === 'npx' ? ['-y', spec, ...extraArgs] : [spec, ...extraArgs];
  return {
    source: { kind: registryName ? 'registry' : runner, ref, package: spec, ...(registryName ? { registry_name: registryName } : {}) },
    ...(command ? { command } : {}),
    ...(runnerMissing ? { runnerMissing } : {}),
    buildRef: `${runner}://${spec}`,
    imageArgs: extraArgs,
    args,
    transport: 'stdio',
    headers: {},
    suggestedName: nameFromPackage(spec),
  };
}

function remoteSource(url: string, transportFlag: RunConfig['transport'] | undefined, registryName?: string, headers: Record<string, string> = {}, transport?: string): ResolvedSource {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest(`"${url}" is not a valid URL`);
  }
  checkNoUrlCredentials(parsed);
  if (transportFlag === 'stdio') throw badRequest('--transport stdio is not possible for a remote server');
  const guessed = transport === 'sse' || /\/sse\/?$/.test(parsed.pathname) ? 'sse' : 'streamable-http';
  return {
    source: { kind: registryName ? 'registry' : 'remote', ref: registryName ?? url, ...(registryName ? { registry_name: registryName } : {}) },
    args: [],
    remoteUrl: parsed.href,
    transport: transportFlag ?? guessed,
    headers,
    suggestedName: parsed.hostname.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'remote',
  };
}

/** Query parameter names that usually carry a credential (`api_key`, `access_token`, `sig`, …). */
const CREDENTIAL_PARAM = /key|token|secret|passw|pwd|auth|sig|session|jwt|bearer|credential/i;

/**
 * A remote URL is shown in client configs, list/status, the log, the run config and API answers, so it
 * must not carry a credential: userinfo (which fetch would not even send) or a credential-like query
 * parameter is refused, and the message does not repeat the URL (docs/remote-auth.md#url-credentials).
 */
function checkNoUrlCredentials(url: URL): void {
  if (url.username || url.password) {
    throw badRequest('the remote URL contains a user name or password (user:pass@host); thv would show it everywhere the URL appears and never send it', 'Remove it from the URL and pass the credential with --remote-header "Authorization: …" or --remote-auth-bearer-token-file.');
  }
  const names = [...new Set([...url.searchParams.keys()].filter((name) => CREDENTIAL_PARAM.test(name)))];
  if (names.length) {
    throw badRequest(`the remote URL has a query parameter that looks like a credential (${names.map((n) => JSON.stringify(n.replace(/[^\x20-\x7e]/g, '?').slice(0, 40))).join(', ')}); thv would show it in client configs, list/status, the log and the run config`, 'Remove it from the URL and pass the credential with --remote-header (e.g. --remote-header "X-API-Key: …") or --remote-auth-bearer-token-file.');
  }
}

async function registrySource(name: string, extraArgs: string[], deps: SourceDeps, transportFlag: RunConfig['transport'] | undefined): Promise<ResolvedSource> {
  let server: CatalogServer;
  try {
    server = await deps.getServer(name);
  } catch (err) {
    // Only a plain "no such server" becomes a hint about other kinds of targets; auth and
    // availability errors surface unchanged.
    if (isThvError(err, 'not_found') && looksLikeImageRef(name)) return imageSource(name, extraArgs, transportFlag);
    if (isThvError(err, 'not_found')) {
      throw new ThvError('not_found', `"${name}" is not a server in the registry`, {
        cause: err,
        hint: 'Run `thv registry list` to see servers, or run npx://pkg, uvx://pkg, a URL, or `-- <command>`.',
      });
    }
    throw err;
  }
  const shortName = server.name.split('/').pop() ?? server.name;
  if (isRemoteServer(server)) {
    const headers: Record<string, string> = {};
    for (const h of server.headers ?? []) if (h.default !== undefined && !h.secret) headers[h.name] = h.default;
    return { ...remoteSource(server.url, transportFlag, server.name, headers, server.transport), suggestedName: sanitiseName(shortName) };
  }
  const image = server as ImageMetadata;
  const pkg = pickPackage(image.packages ?? []);
  if (pkg) {
    const spec = pkg.version ? `${pkg.identifier}@${pkg.version}` : pkg.identifier;
    const resolved = packageSource(pkg.registry_type === 'npm' ? 'npx' : 'uvx', spec, [...(image.args ?? []), ...extraArgs], deps.env, server.name, server.name);
    const requiredEnv = (image.env_vars ?? [])
      .filter((v) => v.required && v.default === undefined)
      .map((v) => ({ name: v.name, secret: Boolean(v.secret), ...(v.description ? { description: v.description } : {}) }));
    return { ...resolved, suggestedName: sanitiseName(shortName), ...(requiredEnv.length ? { requiredEnv } : {}), ...(image.permissions ? { permissions: image.permissions } : {}) };
  }
  const oci = image.image ?? image.packages?.find((p) => p.registry_type === 'oci')?.identifier;
  if (!oci) throw new ThvError('not_found', `"${server.name}" names neither a package nor an image to run`);
  const transport = (['stdio', 'sse', 'streamable-http'] as const).find((t) => t === image.transport) ?? 'stdio';
  return {
    source: { kind: 'registry', ref: server.name, registry_name: server.name },
    args: [],
    image: oci,
    imageArgs: [...(image.args ?? []), ...extraArgs],
    ...(image.target_port ? { targetPort: image.target_port } : {}),
    transport,
    headers: {},
    suggestedName: sanitiseName(shortName),
    ...requiredEnvOf(image),
  };
}

function requiredEnvOf(image: ImageMetadata): Pick<ResolvedSource, 'requiredEnv'> {
  const requiredEnv = (image.env_vars ?? [])
    .filter((v) => v.required && v.default === undefined)
    .map((v) => ({ name: v.name, secret: Boolean(v.secret), ...(v.description ? { description: v.description } : {}) }));
  return requiredEnv.length ? { requiredEnv } : {};
}

function pickPackage(packages: PackageRef[]): PackageRef | undefined {
  return packages.find((p) => p.registry_type === 'npm') ?? packages.find((p) => p.registry_type === 'pypi');
}

/** The absolute path of `program` on the environment's PATH; a clear error when it is missing. */
export function requireOnPath(program: string, env: NodeJS.ProcessEnv): string {
  const found = findOnPath(program, env);
  if (found) return found;
  const install = program === 'uvx' ? 'Install uv (https://docs.astral.sh/uv/) so that `uvx` is on PATH.' : `Install ${program} and make sure it is on PATH.`;
  throw new ThvError('runtime_unavailable', `${program} was not found on PATH`, { hint: install });
}

export function findOnPath(program: string, env: NodeJS.ProcessEnv): string | undefined {
  if (isAbsolute(program)) return isExecutable(program) ? program : undefined;
  const exts = process.platform === 'win32' ? (envText(env, 'PATHEXT') ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (envText(env, 'PATH') ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = join(dir, program + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const INTERPRETERS = new Set(['node', 'python', 'python3', 'deno', 'bun', 'npx', 'uvx', 'uv', 'java', 'ruby', 'php', 'tsx']);

function nameFromCommand(command: string, args: string[]): string {
  const program = basename(command, extname(command));
  if (INTERPRETERS.has(program)) {
    const operand = args.find((a) => !a.startsWith('-') && a !== 'run');
    if (operand) return sanitiseName(operand.includes('/') && !operand.startsWith('@') ? basename(operand, extname(operand)) : nameFromPackage(operand));
  }
  return sanitiseName(program);
}

function nameFromPackage(spec: string): string {
  const withoutVersion = spec.replace(/(?!^)@[^/]*$/, '').replace(/[=<>~!].*$/, '');
  return sanitiseName(withoutVersion.split('/').pop() ?? withoutVersion);
}

function sanitiseName(raw: string): string {
  const name = raw.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '').slice(0, 63);
  return name || 'workload';
}
