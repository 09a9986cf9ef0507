import { parseMemory, type ContainerLimits } from './host-config.js';

/**
 * Resource limits of every container (docs/runtimes.md): TOOLHIVE_CONTAINER_MEMORY (`512m`, `1g`),
 * TOOLHIVE_CONTAINER_CPUS (`0.5`), TOOLHIVE_CONTAINER_PIDS (`256`); unset: the engine's defaults.
 */
export function containerLimits(env: NodeJS.ProcessEnv): ContainerLimits {
  const limits: ContainerLimits = {};
  const memory = parseMemory(env.TOOLHIVE_CONTAINER_MEMORY);
  if (memory) limits.memoryBytes = memory;
  const cpus = Number(env.TOOLHIVE_CONTAINER_CPUS);
  if (env.TOOLHIVE_CONTAINER_CPUS && Number.isFinite(cpus) && cpus > 0) limits.cpus = cpus;
  const pids = Number(env.TOOLHIVE_CONTAINER_PIDS);
  if (env.TOOLHIVE_CONTAINER_PIDS && Number.isInteger(pids) && pids > 0) limits.pids = pids;
  return limits;
}
