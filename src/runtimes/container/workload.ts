import { isThvError } from '../../core/errors.js';
import { findEngine } from './discovery.js';
import { EngineHttpError, type EngineClient } from './engine.js';
import { buildImage, ensureImage } from './images.js';
import { localImageTag, parseSchemeRef, renderDockerfile, type BuildScheme } from './templates.js';

/**
 * What `thv run`, `thv list` and `thv rm` ask of the engine outside a supervisor (docs/runtimes.md):
 * the image made ready up front (so pull and build progress reach the user's terminal), the
 * containers of a workload looked up by label, and everything of a workload removed.
 */
export const LABEL_MANAGED = 'toolhive';
export const LABEL_NAME = 'toolhive-name';

/** Is an engine reachable? (Registry package entries prefer the container runtime when it is.) */
export async function engineAvailable(env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await findEngine(env);
    return true;
  } catch (err) {
    if (isThvError(err, 'runtime_unavailable')) return false;
    throw err;
  }
}

export interface ReadyImageOptions {
  builderImages?: Partial<Record<BuildScheme, string>>;
  /** Entry-point arguments baked into a built image. */
  now?: Date;
}

/** Pulls `ref` unless present, or builds an image for an npx://, uvx://, go:// reference; returns the image to run. */
export async function readyImage(env: NodeJS.ProcessEnv, ref: string, onProgress: (line: string) => void, options: ReadyImageOptions = {}): Promise<string> {
  const { client } = await findEngine(env);
  const scheme = parseSchemeRef(ref);
  if (!scheme) {
    await ensureImage(client, ref, onProgress);
    return ref;
  }
  const tag = localImageTag(scheme, options.now ?? new Date());
  const builderImage = options.builderImages?.[scheme.scheme];
  onProgress(`Building image ${tag} for ${ref}…`);
  await buildImage(client, { tag, dockerfile: renderDockerfile(scheme, builderImage ? { builderImage } : {}), labels: { [LABEL_MANAGED]: 'true' } }, onProgress);
  onProgress(`Built ${tag}`);
  return tag;
}

export interface WorkloadContainer {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
}

/** Containers thv created, by workload name. */
export async function workloadContainers(client: EngineClient): Promise<Map<string, WorkloadContainer[]>> {
  const { json } = await client.requestJson<Array<{ Id: string; Names?: string[]; State?: string; Labels?: Record<string, string> }>>('GET', '/containers/json', {
    query: { all: true, filters: JSON.stringify({ label: [`${LABEL_MANAGED}=true`] }) },
  });
  const byName = new Map<string, WorkloadContainer[]>();
  for (const c of json ?? []) {
    const name = c.Labels?.[LABEL_NAME];
    if (!name) continue;
    const list = byName.get(name) ?? [];
    list.push({ id: c.Id, name: (c.Names?.[0] ?? '').replace(/^\//, ''), state: c.State ?? 'unknown', labels: c.Labels ?? {} });
    byName.set(name, list);
  }
  return byName;
}

/** Removes a workload's containers (with their anonymous volumes), networks and labelled volumes. */
export async function removeWorkloadResources(client: EngineClient, workload: string): Promise<number> {
  const filters = JSON.stringify({ label: [`${LABEL_MANAGED}=true`, `${LABEL_NAME}=${workload}`] });
  let removed = 0;
  const ignore404 = (err: unknown) => {
    if (!(err instanceof EngineHttpError && err.status === 404)) throw err;
  };
  const { json: containers } = await client.requestJson<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: true, filters } });
  for (const c of containers ?? []) {
    await client.request('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true } }).then((r) => (r.resume(), removed++), ignore404);
  }
  const { json: networks } = await client.requestJson<Array<{ Id: string; Name: string }>>('GET', '/networks', { query: { filters } });
  for (const n of networks ?? []) await client.request('DELETE', `/networks/${n.Id}`).then((r) => (r.resume(), removed++), ignore404);
  const { json: volumes } = await client.requestJson<{ Volumes?: Array<{ Name: string }> }>('GET', '/volumes', { query: { filters } });
  for (const v of volumes?.Volumes ?? []) await client.request('DELETE', `/volumes/${encodeURIComponent(v.Name)}`, { query: { force: true } }).then((r) => (r.resume(), removed++), ignore404);
  return removed;
}
