import { isThvError, notFound } from '../core/errors.js';
import { isValidName } from '../core/names.js';
import { engineContainers, reconcileWithEngine } from './containers.js';
import type { WorkloadStores } from './stores.js';
import { liveSupervisor } from './stop.js';
import { toWorkloadInfo, type RunConfig, type WorkloadInfo } from './types.js';

/** A run config that fails to parse is a problem to show, not an error that hides the workload. */
export async function readConfigTolerantly(ctx: WorkloadStores, name: string): Promise<{ config?: RunConfig; problem?: string }> {
  try {
    const config = await ctx.runConfigs.read(name);
    return config ? { config } : {};
  } catch (err) {
    if (isThvError(err, 'config_invalid')) return { problem: err.message };
    throw err;
  }
}

/** A workload exists when any of its files does, readable or not; otherwise not_found. */
export async function requireKnown(ctx: WorkloadStores, name: string): Promise<RunConfig | undefined> {
  const config = await readConfigTolerantly(ctx, name);
  if (config.config) return config.config;
  if (config.problem || (await ctx.statuses.read(name)) || (await ctx.children.read(name))) return undefined;
  throw notFound(`workload "${name}" not found`, 'Run `thv list --all` to see workloads.');
}

/**
 * `thv list`: live and failed workloads; with `all`, stopped ones too. Dead supervisors are
 * reported, never shown running; a workload whose files are damaged is shown `unknown` with the
 * reason, never hidden.
 */
export async function listWorkloads(ctx: WorkloadStores, options: { all?: boolean; group?: string }): Promise<WorkloadInfo[]> {
  const infos: WorkloadInfo[] = [];
  let engine: ReturnType<typeof engineContainers> | undefined;
  const names = new Set([...(await ctx.runConfigs.names()), ...(await ctx.statuses.names())]);
  for (const name of [...names].sort()) {
    if (!isValidName('workload', name)) continue;
    const { config, problem } = await readConfigTolerantly(ctx, name);
    if (!config) {
      if (!problem || options.group) continue;
      infos.push(await damagedInfo(ctx, name, problem));
      continue;
    }
    if (options.group && config.group !== options.group) continue;
    const info = toWorkloadInfo(config, await ctx.reconciler.status(name));
    if (config.runtime === 'container') await reconcileWithEngine(info, (engine ??= engineContainers(ctx.deps.env)));
    if (info.status === 'unknown' && info.process_id === 0) {
      const pid = await liveSupervisor(ctx, name);
      if (pid) info.process_id = pid;
    }
    if (options.all || info.status !== 'stopped') infos.push(info);
  }
  return infos;
}

/** One workload's info, its status reconciled with its processes (and its container engine). */
export async function workloadStatus(ctx: WorkloadStores, name: string): Promise<WorkloadInfo> {
  const config = await ctx.runConfigs.get(name);
  const info = toWorkloadInfo(config, await ctx.reconciler.status(name));
  if (config.runtime === 'container') await reconcileWithEngine(info, engineContainers(ctx.deps.env));
  return info;
}

async function damagedInfo(ctx: WorkloadStores, name: string, problem: string): Promise<WorkloadInfo> {
  const pid = await liveSupervisor(ctx, name);
  return {
    name,
    package: '',
    url: '',
    port: 0,
    tool_type: 'mcp',
    transport_type: 'stdio',
    proxy_mode: 'streamable-http',
    status: 'unknown',
    status_context: `${problem}${pid ? `; its supervisor (pid ${pid}) is still running` : ''}; \`thv rm ${name}\` stops and removes it`,
    created_at: '',
    group: '',
    remote: false,
    process_id: pid ?? 0,
  };
}
