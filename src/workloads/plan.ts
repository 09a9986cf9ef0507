import { ThvError, isThvError } from '../core/errors.js';
import { engineAvailable } from '../runtimes/container/workload.js';
import { DEFAULT_GROUP } from './groups.js';
import { resolveSource } from './sources.js';
import { noEngineForImage, pickRuntime } from './runtime-choice.js';
import { chooseProfile, chooseRuntime, requireRuntime, unconfinedWarning, withoutRunner } from './isolation.js';
import { buildRunConfig, checkWorkloadName, type RunRequest, type StoredCredential } from './run-request.js';
import type { ManagerContext } from './manager-context.js';
import type { RunConfig } from './types.js';

export interface PlannedWorkload {
  config: RunConfig;
  /** Credentials to keep in the secrets store's workloads scope, referenced from `config` by key. */
  credentials: StoredCredential[];
}

/**
 * Request → run config (docs/workloads.md): the source resolved, the runtime and permission profile
 * chosen and checked. Everything is validated before a credential reaches the secrets store, so a
 * refused request leaves nothing behind.
 */
export async function planWorkload(ctx: ManagerContext, req: RunRequest, warnings: string[]): Promise<PlannedWorkload> {
  const { deps } = ctx;
  const resolved = await resolveSource(req.target, req.command ?? [], {
    env: deps.env,
    getServer: deps.getServer ?? (async () => Promise.reject(new ThvError('registry_unavailable', 'no registry is available'))),
    ...(req.cwd ? { cwd: req.cwd } : {}),
  }, req.transport);
  const picked = resolved.remoteUrl ? req.runtime : await pickRuntime(req.runtime, resolved, () => engineAvailable(deps.env));
  const name = req.name ?? resolved.suggestedName;
  checkWorkloadName(name);
  const group = req.group ?? DEFAULT_GROUP;
  await ctx.groups.require(group);
  // Isolation (docs/isolation.md, docs/runtimes.md): chosen and checked before anything is stored, so a
  // host where the runtime cannot work refuses with the reason instead of leaving a workload in error.
  const runtime = chooseRuntime(picked, Boolean(resolved.remoteUrl));
  if (runtime !== 'container' && resolved.runnerMissing) withoutRunner(runtime, resolved, deps.env);
  const permissionProfile = resolved.remoteUrl ? undefined : chooseProfile(req.permissionProfile, resolved.permissions);
  if (runtime === 'container') {
    await requireRuntime(await ctx.runtimes().get(runtime)).catch((err: unknown) => {
      throw isThvError(err, 'runtime_unavailable') ? noEngineForImage(resolved.image ?? resolved.buildRef ?? resolved.source.ref, err) : err;
    });
    // An SSE/streamable-HTTP server is reached over the container's network: `none` would leave no way (docs/runtimes.md).
    if (resolved.transport !== 'stdio' && permissionProfile?.network?.mode === 'none') {
      throw new ThvError('bad_request', `${resolved.image ?? resolved.source.ref} serves ${resolved.transport}, and the permission profile's network mode none would leave no way to reach it`, {
        hint: 'Use network.mode bridge (the default) in the permission profile.',
      });
    }
  } else if (runtime !== 'none') await requireRuntime(await ctx.runtimes().get(runtime));
  else if (!resolved.remoteUrl) warnings.push(unconfinedWarning(name));
  const isolated: RunRequest = { ...req, runtime, ...(permissionProfile ? { permissionProfile } : {}) };
  return buildRunConfig(isolated, resolved, { name, group, createdAt: new Date(ctx.clock.now()).toISOString() }, warnings);
}

/** Stores the credentials, then the run config; a failed write takes the credentials back out. */
export async function storePlanned(ctx: ManagerContext, { config, credentials }: PlannedWorkload): Promise<void> {
  await ctx.credentials.store(credentials);
  try {
    await ctx.runConfigs.write(config);
  } catch (err) {
    await ctx.credentials.deleteFor(config);
    throw err;
  }
}
