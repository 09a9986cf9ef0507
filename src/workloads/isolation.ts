import { ThvError } from '../core/errors.js';
import { resolveProfile, summariseProfile, type PermissionProfile } from '../isolation/profile.js';
import type { Runtime, RuntimeKind } from '../runtimes/types.js';
import type { RunConfig } from './types.js';
import { findOnPath, type ResolvedSource } from './sources.js';

/**
 * How a new local workload is confined when the request names no runtime (docs/isolation.md,
 * "Defaults"): every npx/uvx/command/registry-package server runs in the sandbox; remotes have no
 * local process. A runtime given explicitly always wins.
 */
export function chooseRuntime(requested: RuntimeKind | undefined, remote: boolean): RuntimeKind {
  if (remote) return 'none';
  return requested ?? 'sandbox';
}

/** The profile to store: the explicit one (`--permission-profile`), the registry entry's, else `none`. */
export function chooseProfile(explicit: PermissionProfile | undefined, registryPermissions: unknown): PermissionProfile {
  return resolveProfile({ ...(explicit ? { explicit } : {}), ...(registryPermissions !== undefined ? { registry: registryPermissions } : {}) });
}

/** Refuses a runtime that cannot work on this host with its reason, and how to fix it or opt out. */
export async function requireRuntime(runtime: Runtime): Promise<void> {
  const problem = await runtime.unavailable();
  if (problem) throw new ThvError('runtime_unavailable', problem.reason, { hint: problem.hint });
}

/**
 * The package's runner (npx, uvx) is missing. Unconfined, that ends the request. The sandbox installs
 * a PyPI package itself, with uv or else python3's venv and pip (docs/isolation.md, "Packages"), so
 * `uvx` need not exist there when python3 does: the run config then records `uvx` by name.
 */
export function withoutRunner(runtime: RuntimeKind, resolved: ResolvedSource, env: NodeJS.ProcessEnv): void {
  if (runtime === 'sandbox' && resolved.buildRef?.startsWith('uvx://') && (findOnPath('uv', env) || findOnPath('python3', env))) {
    resolved.command = 'uvx';
    return;
  }
  throw resolved.runnerMissing;
}

export function unconfinedWarning(name: string): string {
  return `"${name}" runs unconfined (--isolation none): it can read and write everything you can and reach any host, thv's secrets included.`;
}

/** The isolation in force, for `thv status`, `thv list --format json` and the API. */
export function isolationSummary(config: RunConfig): string {
  if (config.remote_url) return 'none (remote server: no local process)';
  const profile = config.permission_profile;
  switch (config.runtime) {
    case 'sandbox':
      return `sandbox (bubblewrap), profile ${profile ? summariseProfile(profile) : 'none'}`;
    case 'container':
      return `container, profile ${profile ? summariseProfile(profile) : 'none'}`;
    default:
      return 'none (host process, unconfined)';
  }
}
