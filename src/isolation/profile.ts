import { posix } from 'node:path';
import { isIP } from 'node:net';
import { ThvError } from '../core/errors.js';

/**
 * A permission profile in ToolHive's format (docs/isolation.md): what an isolated server may read,
 * write and reach. Stored resolved in the run config; the sandbox and container runtimes enforce it.
 */
export interface PermissionProfile {
  /** `none`, `network`, or where a custom profile came from (a file name, `registry`). */
  name?: string;
  /** Mount declarations, read-only: `/path` or `/host/path:/path/inside`. */
  read?: string[];
  /** Mount declarations, writable. */
  write?: string[];
  network?: {
    /** Container network mode (ToolHive's `host|bridge|none`); kept for the container runtime. */
    mode?: string;
    outbound?: OutboundPermissions;
    inbound?: { allow_host?: string[] };
  };
  privileged?: boolean;
}

export interface OutboundPermissions {
  insecure_allow_all?: boolean;
  /** `api.example.com` (exactly that host), `.example.com` (it and its subdomains); `*.x` is read as `.x`. */
  allow_host?: string[];
  allow_port?: number[];
}

/** Nothing beyond the server's own files: no extra mounts, no network. */
export const NONE_PROFILE: PermissionProfile = deepFreeze({
  name: 'none',
  read: [],
  write: [],
  network: { outbound: { insecure_allow_all: false, allow_host: [], allow_port: [] }, inbound: { allow_host: [] } },
  privileged: false,
});

/** No extra mounts; outbound network to anything but thv itself (through the egress proxy). */
export const NETWORK_PROFILE: PermissionProfile = deepFreeze({
  name: 'network',
  read: [],
  write: [],
  network: { outbound: { insecure_allow_all: true, allow_host: [], allow_port: [] }, inbound: { allow_host: [] } },
  privileged: false,
});

export const BUILTIN_PROFILES: Readonly<Record<string, PermissionProfile>> = { none: NONE_PROFILE, network: NETWORK_PROFILE };

/** A built-in profile by name (a fresh copy), or undefined. */
export function builtinProfile(name: string): PermissionProfile | undefined {
  const profile = BUILTIN_PROFILES[name];
  return profile ? structuredClone(profile) as PermissionProfile : undefined;
}

// ToolHive (toolhive-core permissions.validatePath) rejects these in any mount path: shell
// metacharacters that hint at command injection, and NUL.
const INJECTION = /[$&;|`]|\$\(/;

export interface Mount {
  /** Absolute host path. */
  source: string;
  /** Absolute path inside the sandbox/container. */
  target: string;
  writable: boolean;
}

/**
 * Parses one mount declaration like ToolHive: `/path` (same path inside) or `/host:/inside`.
 * Resource URIs (`volume://name:/inside`) are returned with `source` = the URI, for runtimes that
 * support them; relative paths and Windows paths inside are refused with a clear message.
 */
export function parseMount(declaration: string, writable = false): Mount {
  const where = `mount declaration "${printable(declaration)}"`;
  if (typeof declaration !== 'string' || declaration === '') throw invalid(`${where} is empty`);
  if (declaration.includes('\0')) throw invalid(`${where} contains a NUL byte`);
  if (INJECTION.test(declaration)) throw invalid(`${where} contains a character ToolHive refuses in paths ($ & ; | \` or $( )`);
  const uri = /^([a-zA-Z][a-zA-Z0-9_-]*):\/\/(.+)$/.exec(declaration);
  if (uri) {
    const rest = uri[2]!;
    const colon = rest.lastIndexOf(':');
    const target = colon > 0 ? rest.slice(colon + 1) : '';
    if (!target.startsWith('/')) throw invalid(`${where} must name a path inside: ${uri[1]}://<name>:/path`);
    return { source: `${uri[1]}://${rest.slice(0, colon)}`, target: posix.normalize(target), writable };
  }
  const parts = declaration.split(':');
  if (/^[a-zA-Z]:[\\/]/.test(declaration)) throw invalid(`${where}: Windows paths are not supported here`);
  if (parts.length > 2) throw invalid(`${where} has more than one ":" (expected /path or /host/path:/path/inside)`);
  const [source, target = source] = parts as [string, string?];
  for (const [label, path] of [['host path', source], ['path inside', target]] as const) {
    if (!path) throw invalid(`${where} has an empty ${label}`);
    if (!path.startsWith('/')) throw invalid(`${where}: the ${label} "${printable(path)}" is not absolute`, 'Give absolute paths, e.g. /home/me/data or /home/me/data:/data.');
    if (path.split('/').includes('..')) throw invalid(`${where}: the ${label} contains ".."`);
  }
  return { source: posix.normalize(source).replace(/(.)\/$/, '$1'), target: posix.normalize(target!).replace(/(.)\/$/, '$1'), writable };
}

/** Every mount of a profile, read ones first; later (write) mounts of the same target win. */
export function profileMounts(profile: PermissionProfile): Mount[] {
  return [...(profile.read ?? []).map((d) => parseMount(d, false)), ...(profile.write ?? []).map((d) => parseMount(d, true))];
}

/**
 * Validates a profile object (parsed JSON/YAML, an API body, a registry entry's `permissions`) and
 * returns a normalised copy: `*.x` hosts become `.x`, host names are lower-cased. Throws a
 * `bad_request` naming the field at fault.
 */
export function parseProfile(raw: unknown, origin = 'permission profile', options: { strict?: boolean } = {}): PermissionProfile {
  // Files and API bodies are checked strictly (a typo must not silently grant or deny); registry
  // entries leniently, like ToolHive's Go decoder, so a newer catalog field does not break `thv run`.
  const strict = options.strict ?? true;
  const fail = (path: string, problem: string, hint?: string) => new ThvError('bad_request', `${origin}: ${path} ${problem}`, hint ? { hint } : {});
  if (!isObject(raw)) throw fail('(root)', 'must be an object');
  const known = new Set(['name', 'read', 'write', 'network', 'privileged']);
  for (const key of Object.keys(raw)) if (strict && !known.has(key)) throw fail(key, 'is not a profile field', 'The fields are read, write, network.outbound.{insecure_allow_all, allow_host, allow_port}, network.inbound.allow_host and privileged.');
  const out: PermissionProfile = {};
  if (raw.name !== undefined) {
    if (typeof raw.name !== 'string') throw fail('name', 'must be a string');
    out.name = raw.name;
  }
  for (const key of ['read', 'write'] as const) {
    const list = raw[key] ?? [];
    if (!isStringArray(list)) throw fail(key, 'must be a list of paths');
    for (const decl of list) {
      try {
        parseMount(decl);
      } catch (err) {
        throw fail(key, (err as Error).message.replace(/^invalid permission profile: /, ''), (err as ThvError).hint);
      }
    }
    out[key] = [...list];
  }
  const network = raw.network ?? {};
  if (!isObject(network)) throw fail('network', 'must be an object');
  for (const key of Object.keys(network)) if (strict && !['mode', 'outbound', 'inbound'].includes(key)) throw fail(`network.${key}`, 'is not a profile field');
  const outbound = network.outbound ?? {};
  if (!isObject(outbound)) throw fail('network.outbound', 'must be an object');
  for (const key of Object.keys(outbound)) if (strict && !['insecure_allow_all', 'allow_host', 'allow_port'].includes(key)) throw fail(`network.outbound.${key}`, 'is not a profile field');
  if (outbound.insecure_allow_all !== undefined && typeof outbound.insecure_allow_all !== 'boolean') throw fail('network.outbound.insecure_allow_all', 'must be true or false');
  const hosts = outbound.allow_host ?? [];
  if (!isStringArray(hosts)) throw fail('network.outbound.allow_host', 'must be a list of host names');
  const allowHost = hosts.map((h) => {
    const normalised = normaliseAllowHost(h);
    if (!normalised) throw fail('network.outbound.allow_host', `has an invalid host "${printable(h)}"`, 'Use a host name (api.example.com), a domain with its subdomains (.example.com or *.example.com), or an IP address.');
    return normalised;
  });
  const ports = outbound.allow_port ?? [];
  if (!Array.isArray(ports) || !ports.every((p) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535)) throw fail('network.outbound.allow_port', 'must be a list of port numbers (1-65535)');
  const inbound = network.inbound ?? {};
  if (!isObject(inbound)) throw fail('network.inbound', 'must be an object');
  const inboundHosts = inbound.allow_host ?? [];
  if (!isStringArray(inboundHosts)) throw fail('network.inbound.allow_host', 'must be a list of hosts');
  if (network.mode !== undefined && typeof network.mode !== 'string') throw fail('network.mode', 'must be a string');
  out.network = {
    ...(network.mode !== undefined ? { mode: network.mode as string } : {}),
    outbound: { insecure_allow_all: outbound.insecure_allow_all === true, allow_host: allowHost, allow_port: [...(ports as number[])] },
    inbound: { allow_host: [...inboundHosts] },
  };
  if (raw.privileged !== undefined && typeof raw.privileged !== 'boolean') throw fail('privileged', 'must be true or false');
  out.privileged = raw.privileged === true;
  return out;
}

/** `*.x` → `.x`, lower case; undefined when it is not a host name, a `.domain` or an IP address. */
export function normaliseAllowHost(entry: string): string | undefined {
  let host = entry.trim().toLowerCase();
  if (host.startsWith('*.')) host = host.slice(1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (isIP(host)) return host;
  const name = host.startsWith('.') ? host.slice(1) : host;
  if (!/^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/.test(name)) return undefined;
  return host.replace(/\.$/, '');
}

/** How `host` is matched by one `allow_host` entry: `exact` names it, `domain` through `.domain`. */
export function matchAllowHost(entry: string, host: string): 'exact' | 'domain' | undefined {
  const h = host.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
  const e = normaliseAllowHost(entry);
  if (!e) return undefined;
  if (e.startsWith('.')) {
    // Squid's dstdomain semantics (what ToolHive's egress proxy uses): `.example.com` matches
    // example.com itself and every subdomain.
    if (h === e.slice(1)) return 'exact';
    return h.endsWith(e) ? 'domain' : undefined;
  }
  return h === e ? 'exact' : undefined;
}

export interface OutboundDecision {
  allowed: boolean;
  /** The profile names this host exactly (not through a domain or allow-all): private addresses are then allowed. */
  named: boolean;
  reason?: string;
}

/**
 * May the server open a connection to `host:port`? Like ToolHive's egress rules: `insecure_allow_all`
 * allows everything; otherwise each non-empty list must match (host AND port); a profile that lists
 * neither allows nothing.
 */
export function outboundDecision(profile: PermissionProfile, host: string, port: number): OutboundDecision {
  const out = profile.network?.outbound ?? {};
  const hosts = out.allow_host ?? [];
  const ports = out.allow_port ?? [];
  let exact = false;
  let hostOk = hosts.length === 0;
  for (const entry of hosts) {
    const m = matchAllowHost(entry, host);
    if (m) hostOk = true;
    if (m === 'exact') exact = true;
  }
  const portOk = ports.length === 0 || ports.includes(port);
  if (out.insecure_allow_all) return { allowed: true, named: exact };
  if (hosts.length === 0 && ports.length === 0) return { allowed: false, named: false, reason: 'the permission profile allows no outbound network' };
  if (!hostOk) return { allowed: false, named: false, reason: 'host not in allow_host' };
  if (!portOk) return { allowed: false, named: exact, reason: 'port not in allow_port' };
  return { allowed: true, named: exact };
}

/** One line for status output: `none`, `network`, or `custom (read 1, write 1, hosts api.x:443)`. */
export function summariseProfile(profile: PermissionProfile): string {
  const out = profile.network?.outbound ?? {};
  const parts: string[] = [];
  if (profile.read?.length) parts.push(`read ${profile.read.join(',')}`);
  if (profile.write?.length) parts.push(`write ${profile.write.join(',')}`);
  if (out.insecure_allow_all) parts.push('network: all');
  else if (out.allow_host?.length || out.allow_port?.length) parts.push(`network: ${out.allow_host?.length ? out.allow_host.join(',') : '*'}${out.allow_port?.length ? `:${out.allow_port.join(',')}` : ''}`);
  else parts.push('no network');
  return `${profile.name ?? 'custom'} (${parts.join('; ')})`;
}

export interface ProfileSources {
  /** `--permission-profile` / the API's `permission_profile`, already loaded (a built-in or a file's content). */
  explicit?: PermissionProfile;
  /** The registry entry's `permissions`. */
  registry?: unknown;
}

/** Sources by priority (docs/isolation.md): the explicit profile, the registry entry's, else `none`. */
export function resolveProfile(sources: ProfileSources): PermissionProfile {
  if (sources.explicit) return sources.explicit;
  if (sources.registry !== undefined && sources.registry !== null) return { ...parseProfile(sources.registry, 'the registry entry\'s permissions', { strict: false }), name: 'registry' };
  return builtinProfile('none')!;
}

function invalid(message: string, hint?: string): ThvError {
  return new ThvError('bad_request', `invalid permission profile: ${message}`, hint ? { hint } : {});
}

function printable(s: unknown): string {
  return String(s).replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
