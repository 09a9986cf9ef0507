import { parseMemory, type ContainerLimits } from './host-config.js';
import { envText } from '../../core/env.js';

/**
 * Resource limits of every container (docs/runtimes.md): TOOLHIVE_CONTAINER_MEMORY (`512m`, `1g`),
 * TOOLHIVE_CONTAINER_CPUS (`0.5`), TOOLHIVE_CONTAINER_PIDS (`256`); unset: the engine's defaults.
 */
export function containerLimits(env: NodeJS.ProcessEnv): ContainerLimits {
  const limits: ContainerLimits = {};
  const memory = parseMemory(envText(env, 'TOOLHIVE_CONTAINER_MEMORY'));
  if (memory) limits.memoryBytes = memory;
  const cpusText = envText(env, 'TOOLHIVE_CONTAINER_CPUS');
  const cpus = Number(cpusText);
  if (cpusText && Number.isFinite(cpus) && cpus > 0) limits.cpus = cpus;
  const pidsText = envText(env, 'TOOLHIVE_CONTAINER_PIDS');
  const pids = Number(pidsText);
  if (pidsText && Number.isInteger(pids) && pids > 0) limits.pids = pids;
  return limits;
}
