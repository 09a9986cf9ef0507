import { isProcessAlive, signalProcess } from '../core/processes.js';
import { isRecordedGroupRunning } from './child-record.js';
import type { ManagerContext } from './manager-context.js';
import type { WorkloadStores } from './stores.js';
import { LIVE_STATUSES } from './types.js';

/**
 * The pid of the workload's running supervisor: from the status file, or — when that file is
 * damaged or was overwritten — from the record the supervisor keeps of its server's process group,
 * so a damaged file never hides a live supervisor (docs/workloads.md#damaged-state).
 */
export async function liveSupervisor(ctx: Pick<WorkloadStores, 'reconciler' | 'children'>, name: string): Promise<number | undefined> {
  const status = await ctx.reconciler.status(name);
  if (status && LIVE_STATUSES.has(status.status) && status.process_id > 0 && isProcessAlive(status.process_id)) return status.process_id;
  const record = await ctx.children.read(name);
  if (record && isProcessAlive(record.supervisor_pid) && isRecordedGroupRunning(record)) return record.supervisor_pid;
  return undefined;
}

/**
 * Stops the workload's supervisor: SIGTERM, then SIGKILL after `stopTimeoutMs` (waits through the
 * injected clock), then whatever server group a killed supervisor left behind.
 */
export async function stopSupervisor(ctx: ManagerContext, name: string): Promise<{ wasRunning: boolean }> {
  const { clock, statuses } = ctx;
  const pid = await liveSupervisor(ctx, name);
  if (pid === undefined) {
    const status = await statuses.read(name);
    if (status && LIVE_STATUSES.has(status.status)) await statuses.set(name, 'stopped', '');
    await ctx.reconciler.stopOrphanedServer(name);
    return { wasRunning: false };
  }
  signalProcess(pid, 'SIGTERM');
  const deadline = clock.now() + (ctx.deps.stopTimeoutMs ?? 15_000);
  while (isProcessAlive(pid) && clock.now() < deadline) await clock.sleep(25);
  if (isProcessAlive(pid)) {
    ctx.log().warn({ workload: name, pid }, 'the supervisor did not stop in time; killing it');
    signalProcess(pid, 'SIGKILL');
    while (isProcessAlive(pid)) await clock.sleep(25);
    await statuses.set(name, 'stopped', 'the supervisor was killed after it did not stop in time', { onlyIf: (s) => s?.process_id === pid });
  }
  // A supervisor that was killed (or whose status was damaged) may leave its server's group behind.
  await ctx.reconciler.stopOrphanedServer(name);
  return { wasRunning: true };
}
