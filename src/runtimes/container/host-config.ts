import { realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { ThvError } from '../../core/errors.js';
import { profileMounts, type Mount, type PermissionProfile } from '../../isolation/profile.js';

/**
 * What a permission profile becomes in a container (docs/runtimes.md, "Profiles in a container"):
 * read → read-only binds, write → read-write binds, no privileges, every capability dropped,
 * no-new-privileges, and limits from the config.
 */
export interface ContainerLimits {
  /** Bytes; 0 or undefined: the engine's default (none). */
  memoryBytes?: number;
  /** CPUs, e.g. 0.5; 0 or undefined: none. */
  cpus?: number;
  /** Processes; 0 or undefined: none. */
  pids?: number;
}

/** Host paths a server must never get, whatever the profile says: the host itself, and any engine's socket. */
const FORBIDDEN_SOURCES = ['/', '/etc', '/proc', '/sys', '/dev', '/boot', '/root', '/run', '/var/run', '/var/lib/docker', '/var/lib/containers', '/usr', '/bin', '/sbin', '/lib', '/lib64'];
const FORBIDDEN_SOURCE_TREES = ['/proc', '/sys', '/dev', '/boot', '/run/podman', '/var/run/podman', '/run/containerd', '/var/lib/docker', '/var/lib/containers'];
/** Places inside the container a bind must not cover: they belong to the runtime. */
const FORBIDDEN_TARGETS = ['/', '/proc', '/sys', '/dev', '/etc', '/usr', '/bin', '/sbin', '/lib', '/lib64'];

function underTree(path: string, tree: string): boolean {
  return path === tree || path.startsWith(`${tree}/`);
}

function refusal(declaration: string, why: string): ThvError {
  return new ThvError('bad_request', `refusing to mount ${declaration}: ${why}`, {
    hint: 'Mount a folder of your own, e.g. --volume /home/me/data:/data:ro, or adjust the permission profile.',
  });
}

/** One mount checked against the host: it exists, and neither it nor where its links lead is dangerous. */
export async function checkMount(mount: Mount): Promise<Mount> {
  const declaration = mount.source === mount.target ? mount.source : `${mount.source}:${mount.target}`;
  const target = posix.normalize(mount.target);
  if (FORBIDDEN_TARGETS.includes(target) || underTree(target, '/proc') || underTree(target, '/sys') || underTree(target, '/dev')) {
    throw refusal(declaration, `${target} inside the container belongs to the runtime`);
  }
  if (mount.source.includes('://')) {
    // `volume://<name>:/inside`: an engine named volume (ToolHive skips resource URIs; thv mounts
    // this one kind, docs/runtimes.md "Named volumes").
    const name = volumeName(mount.source);
    if (name === undefined) throw refusal(declaration, 'only host paths and volume://<name> can be mounted into a container');
    return { source: mount.source, target, writable: mount.writable };
  }
  let real: string;
  try {
    real = await realpath(mount.source);
  } catch {
    throw refusal(declaration, `${mount.source} does not exist on this machine`);
  }
  for (const path of new Set([posix.normalize(mount.source), real])) {
    if (FORBIDDEN_SOURCES.includes(path) || FORBIDDEN_SOURCE_TREES.some((t) => underTree(path, t))) throw refusal(declaration, `${path} is a system path`);
    if (/(^|\/)(docker|podman|containerd)\.sock$/.test(path) || (/\.sock$/.test(path) && (await isSocket(real)))) throw refusal(declaration, 'a container engine socket would give the server the whole machine');
  }
  if (await isSocket(real)) throw refusal(declaration, 'sockets are not mounted');
  return { source: real, target, writable: mount.writable };
}

async function isSocket(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isSocket(), () => false);
}

/** The name of a `volume://<name>` source, or undefined for anything else (or a name no engine accepts). */
export function volumeName(source: string): string | undefined {
  const m = /^volume:\/\/([a-zA-Z0-9][a-zA-Z0-9_.-]{0,127})$/.exec(source);
  return m?.[1];
}

/** The profile's mounts as engine binds (`/host:/inside:ro`, `name:/inside:rw`), later ones winning for the same target. */
export async function profileBinds(profile: PermissionProfile): Promise<string[]> {
  return (await profileMountsChecked(profile)).map((m) => `${volumeName(m.source) ?? m.source}:${m.target}:${m.writable ? 'rw' : 'ro'}`);
}

/** The profile's mounts checked against the host, one per target (the last declaration wins). */
export async function profileMountsChecked(profile: PermissionProfile): Promise<Mount[]> {
  const byTarget = new Map<string, Mount>();
  for (const mount of profileMounts(profile)) byTarget.set(posix.normalize(mount.target), await checkMount(mount));
  return [...byTarget.values()];
}

/** ToolHive's `network.mode`: `bridge` (the default), `none`, or `host`. */
export type NetworkModeName = 'bridge' | 'none' | 'host';

export function networkModeOf(profile: PermissionProfile): NetworkModeName {
  const mode = profile.network?.mode ?? '';
  if (mode === '' || mode === 'bridge' || mode === 'default') return 'bridge';
  if (mode === 'none' || mode === 'host') return mode;
  throw new ThvError('bad_request', `network mode "${mode}" of the permission profile is not supported`, { hint: 'Use network.mode bridge (the default), none or host.' });
}

export interface HostConfigInput {
  profile: PermissionProfile;
  networkMode: string;
  binds: string[];
  limits: ContainerLimits;
  /** container port → host port on 127.0.0.1 (http transports). */
  publish?: { containerPort: number; hostPort: number };
}

export function hostConfig(input: HostConfigInput): Record<string, unknown> {
  const privileged = input.profile.privileged === true;
  const config: Record<string, unknown> = {
    NetworkMode: input.networkMode,
    Binds: input.binds,
    Privileged: privileged,
    // A privileged profile is a deliberate choice (ToolHive's `privileged: true`); otherwise nothing
    // the server runs can gain privileges or use a capability.
    ...(privileged ? {} : { CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'] }),
    ReadonlyRootfs: false,
    ...(input.limits.memoryBytes ? { Memory: input.limits.memoryBytes } : {}),
    ...(input.limits.cpus ? { NanoCpus: Math.round(input.limits.cpus * 1e9) } : {}),
    ...(input.limits.pids ? { PidsLimit: input.limits.pids } : {}),
  };
  if (input.publish) {
    config.PortBindings = { [`${input.publish.containerPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(input.publish.hostPort) }] };
  }
  return config;
}

/** `512m`, `1g`, `1048576` → bytes; undefined for empty. */
export function parseMemory(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(value.trim());
  if (!m) throw new ThvError('bad_request', `invalid memory limit "${value}"`, { hint: 'Use a size like 512m or 1g.' });
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * unit);
}
