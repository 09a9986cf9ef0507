import { isThvError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Paths } from '../core/paths.js';
import { LIVE_STATUSES, type RunConfig, type WorkloadInfo } from './types.js';
import { noEngineForImage } from './runtime-choice.js';

/**
 * The container side of workload life cycle (docs/runtimes.md): the image made ready before the
 * supervisor starts (so pull/build progress reaches `thv run`'s terminal), `thv list` reconciled
 * with the engine's containers, and a workload's containers, networks and volumes removed.
 */
export interface ContainerDeps {
  env: NodeJS.ProcessEnv;
  paths: Paths;
  log: () => Logger;
}

/**
 * Pulls the image (unless present) or builds one for a package; returns the image to store in the
 * run config (a built image's tag replaces the package reference, so restarts do not build again).
 */
export async function prepareWorkloadImage(deps: ContainerDeps, config: RunConfig, options: { runtimeImage?: string; onProgress?: (line: string) => void }): Promise<string> {
  const [{ profileBinds }, { readyImage }] = await Promise.all([import('../runtimes/container/host-config.js'), import('../runtimes/container/workload.js')]);
  // Mounts are the user's to fix: refused before anything is pulled, built or started.
  await profileBinds(config.permission_profile ?? {});
  const { ConfigStore } = await import('../config/store.js');
  const configured = ((await new ConfigStore(deps.paths.configFile).load()) as { build_images?: Partial<Record<'npx' | 'uvx' | 'go', string>> }).build_images ?? {};
  const builderImages = options.runtimeImage ? { npx: options.runtimeImage, uvx: options.runtimeImage, go: options.runtimeImage } : configured;
  const onProgress = options.onProgress ?? ((line: string) => deps.log().info({ workload: config.name }, line));
  try {
    return await readyImage(deps.env, config.image!, onProgress, { builderImages });
  } catch (err) {
    if (isThvError(err, 'runtime_unavailable') && !err.message.startsWith('container runtime not available')) throw noEngineForImage(config.image!, err);
    throw err;
  }
}

type EngineView = Map<string, Array<{ state: string }>> | string;

/** The engine's containers by workload, or why the engine cannot be asked. */
export async function engineContainers(env: NodeJS.ProcessEnv): Promise<EngineView> {
  const [{ findEngine }, { workloadContainers }] = await Promise.all([import('../runtimes/container/discovery.js'), import('../runtimes/container/workload.js')]);
  try {
    return await workloadContainers((await findEngine(env)).client);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * A live container workload whose container is not running on the engine (removed or stopped
 * behind thv's back) says so; the supervisor's restart policy brings a new one up.
 */
export async function reconcileWithEngine(info: WorkloadInfo, engine: Promise<EngineView>): Promise<void> {
  if (!LIVE_STATUSES.has(info.status) || info.status === 'starting' || info.status === 'stopping') return;
  const containers = await engine;
  if (typeof containers === 'string') {
    info.status_context = `container engine not reachable: ${containers}`;
    return;
  }
  if (!(containers.get(info.name) ?? []).some((c) => c.state === 'running')) {
    info.status = 'unhealthy';
    info.status_context = 'its container is not running on the container engine (removed or stopped outside thv)';
  }
}

/** Removes a workload's containers, networks and volumes; an unreachable engine is logged. */
export async function removeWorkloadContainers(deps: ContainerDeps, name: string): Promise<void> {
  const [{ findEngine }, { removeWorkloadResources }] = await Promise.all([import('../runtimes/container/discovery.js'), import('../runtimes/container/workload.js')]);
  try {
    await removeWorkloadResources((await findEngine(deps.env)).client, name);
  } catch (err) {
    deps.log().warn({ workload: name, err: (err as Error).message }, 'could not remove the workload\'s containers');
  }
}
