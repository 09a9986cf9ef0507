import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ThvError, isThvError } from '../../core/errors.js';
import { EngineClient, type EngineVersion } from './engine.js';
import { envText } from '../../core/env.js';

/**
 * Finding a Docker-compatible engine the way ToolHive does (docs/runtimes.md, "Engines"): an explicit
 * socket from TOOLHIVE_PODMAN_SOCKET, TOOLHIVE_DOCKER_SOCKET or TOOLHIVE_COLIMA_SOCKET (in that order)
 * is the only candidate; then DOCKER_HOST=unix://…; then the well-known sockets of Podman, Docker
 * (and Docker Desktop, Rancher Desktop, OrbStack) and Colima. The first one that answers /_ping wins.
 */
export type EngineKind = 'podman' | 'docker' | 'colima';

export interface SocketCandidate {
  path: string;
  kind: EngineKind;
  /** Where the candidate came from: an environment variable or a product's usual place. */
  source: string;
}

export interface EngineProbe extends SocketCandidate {
  /** Present when the socket answered. */
  version?: EngineVersion;
  /** Why it did not. */
  error?: string;
}

export interface FoundEngine extends SocketCandidate {
  client: EngineClient;
}

const EXPLICIT: Array<['TOOLHIVE_PODMAN_SOCKET' | 'TOOLHIVE_DOCKER_SOCKET' | 'TOOLHIVE_COLIMA_SOCKET', EngineKind]> = [
  ['TOOLHIVE_PODMAN_SOCKET', 'podman'],
  ['TOOLHIVE_DOCKER_SOCKET', 'docker'],
  ['TOOLHIVE_COLIMA_SOCKET', 'colima'],
];

/** Every socket to try, in order; an explicit TOOLHIVE_*_SOCKET is the only one. */
export async function socketCandidates(env: NodeJS.ProcessEnv): Promise<{ candidates: SocketCandidate[]; explicit: boolean }> {
  for (const [name, kind] of EXPLICIT) {
    const value = envText(env, name);
    if (value) return { candidates: [{ path: value, kind, source: name }], explicit: true };
  }
  const list: SocketCandidate[] = [];
  const dockerHost = envText(env, 'DOCKER_HOST');
  if (dockerHost?.startsWith('unix://')) list.push({ path: dockerHost.slice('unix://'.length), kind: /podman/.test(dockerHost) ? 'podman' : 'docker', source: 'DOCKER_HOST' });
  const home = envText(env, 'HOME');
  list.push({ path: '/var/run/podman/podman.sock', kind: 'podman', source: 'Podman (rootful)' });
  const runtimeDir = envText(env, 'XDG_RUNTIME_DIR');
  if (runtimeDir) list.push({ path: join(runtimeDir, 'podman/podman.sock'), kind: 'podman', source: 'Podman (rootless)' });
  if (home) list.push({ path: join(home, '.local/share/containers/podman/machine/podman.sock'), kind: 'podman', source: 'Podman machine' });
  const tmpDir = envText(env, 'TMPDIR');
  if (tmpDir) {
    const dir = join(tmpDir, 'podman');
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('-api.sock')).sort()) list.push({ path: join(dir, name), kind: 'podman', source: 'Podman machine' });
  }
  list.push({ path: '/var/run/docker.sock', kind: 'docker', source: 'Docker' });
  if (home) {
    list.push({ path: join(home, '.docker/run/docker.sock'), kind: 'docker', source: 'Docker Desktop' });
    list.push({ path: join(home, '.docker/desktop/docker.sock'), kind: 'docker', source: 'Docker Desktop' });
    list.push({ path: join(home, '.rd/docker.sock'), kind: 'docker', source: 'Rancher Desktop' });
    list.push({ path: join(home, '.orbstack/run/docker.sock'), kind: 'docker', source: 'OrbStack' });
    list.push({ path: join(home, '.colima/default/docker.sock'), kind: 'colima', source: 'Colima' });
  }
  const seen = new Set<string>();
  return { candidates: list.filter((c) => (seen.has(c.path) ? false : (seen.add(c.path), true))), explicit: false };
}

/** Every candidate with what it answered: `thv runtime check`. */
export async function probeEngines(env: NodeJS.ProcessEnv): Promise<EngineProbe[]> {
  const { candidates, explicit } = await socketCandidates(env);
  const probes: EngineProbe[] = [];
  for (const candidate of candidates) {
    const exists = await stat(candidate.path).then(() => true, () => false);
    if (!exists) {
      // Absent well-known sockets are noise; an explicit one that is missing is the answer.
      if (explicit) probes.push({ ...candidate, error: 'no such socket' });
      continue;
    }
    const client = new EngineClient(candidate.path);
    try {
      await client.ping();
      probes.push({ ...candidate, version: await client.version() });
    } catch (err) {
      probes.push({ ...candidate, error: isThvError(err) ? err.message : (err as Error).message });
    }
  }
  return probes;
}

/** The first engine that answers, or a `runtime_unavailable` naming what was tried. */
export async function findEngine(env: NodeJS.ProcessEnv): Promise<FoundEngine> {
  const { candidates, explicit } = await socketCandidates(env);
  const failures: string[] = [];
  for (const candidate of candidates) {
    const exists = await stat(candidate.path).then(() => true, () => false);
    if (!exists) {
      if (explicit) failures.push(`${candidate.source}=${candidate.path}: no such socket`);
      continue;
    }
    const client = new EngineClient(candidate.path);
    try {
      await client.ping();
      return { ...candidate, client };
    } catch (err) {
      failures.push(`${candidate.path}: ${(err as Error).message}`);
    }
  }
  throw new ThvError('runtime_unavailable', failures.length ? `no container engine answered (${failures.join('; ')})` : 'no container engine found', { hint: ENGINE_HINT });
}

export const ENGINE_HINT =
  'Install and start Docker or Podman (`podman system service`), or point TOOLHIVE_DOCKER_SOCKET / TOOLHIVE_PODMAN_SOCKET / DOCKER_HOST=unix://… at its socket; `thv runtime check` shows what was found.';
