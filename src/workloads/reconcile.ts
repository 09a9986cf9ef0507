import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { groupAlive, isSupervisorAlive, killGroup, waitForGroupGone } from '../core/processes.js';
import { isRecordedGroupRunning, otherEraRecordName, type ChildRecordStore } from './child-record.js';
import type { StatusStore } from './status-store.js';
import { LIVE_STATUSES, type StatusFile, type WorkloadStatus } from './types.js';

export interface ReconcilerDeps {
  statuses: StatusStore;
  children: ChildRecordStore;
  clock: Clock;
  log: () => Logger;
  /** Grace period between SIGTERM and SIGKILL for the server of a supervisor that died. */
  orphanGraceMs?: number;
  /** Clean-up beyond process groups (a container runtime's containers) once a supervisor is found dead. */
  onDeadSupervisor?: (name: string) => Promise<void>;
}

/**
 * Keeps status files true to the processes (docs/workloads.md): a status that claims a live
 * supervisor that is gone is corrected, and a server left behind by a dead supervisor is stopped.
 */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /** The status file, corrected when it claims a live supervisor that is gone (list reconciles). */
  async status(name: string): Promise<StatusFile | undefined> {
    const { statuses, clock } = this.deps;
    const status = await statuses.read(name);
    if (!status || !LIVE_STATUSES.has(status.status)) {
      // A server can outlive a supervisor whose status already says it ended (written before a kill -9).
      await this.stopOrphanedServer(name);
      return status;
    }
    if (status.process_id === 0) {
      // Between `starting` written by the CLI and the supervisor's first write: trust it briefly.
      const age = clock.now() - Date.parse(status.updated_at);
      if (age < 60_000) return status;
    } else if (isSupervisorAlive(status.process_id)) {
      return status;
    }
    const next: WorkloadStatus = status.status === 'stopping' ? 'stopped' : 'error';
    let context = status.process_id === 0 ? 'the supervisor never started' : `supervisor process ${status.process_id} is not running`;
    const orphan = status.process_id === 0 ? undefined : await this.stopOrphanedServer(name);
    if (orphan) context += `; stopped its orphaned MCP server (process group ${orphan})`;
    if (status.process_id !== 0) await this.deps.onDeadSupervisor?.(name);
    const written = await statuses.set(name, next, context, {
      onlyIf: (cur) => cur?.process_id === status.process_id && cur.status === status.status,
    });
    return written ?? status;
  }

  /**
   * No orphans: when the supervisor that recorded the server's process group is gone (kill -9 runs
   * no clean-up), the group is stopped here — SIGTERM, then SIGKILL after the grace period — if it
   * is still the one recorded. Returns the group id when one was stopped.
   */
  async stopOrphanedServer(name: string): Promise<number | undefined> {
    // The second copy a dual-era bridge may have started has a record of its own.
    const second = await this.stopOrphanedGroup(otherEraRecordName(name));
    return (await this.stopOrphanedGroup(name)) ?? second;
  }

  private async stopOrphanedGroup(name: string): Promise<number | undefined> {
    const { children, clock } = this.deps;
    const record = await children.read(name);
    if (!record || isSupervisorAlive(record.supervisor_pid)) return undefined;
    if (!isRecordedGroupRunning(record)) {
      await children.remove(name, record.supervisor_pid);
      return undefined;
    }
    const { pgid } = record;
    this.deps.log().warn({ workload: name, pgid, supervisor: record.supervisor_pid }, 'stopping the MCP server left behind by a dead supervisor');
    killGroup(pgid, 'SIGTERM');
    const deadline = clock.now() + (this.deps.orphanGraceMs ?? 5_000);
    while (groupAlive(pgid) && clock.now() < deadline) await clock.sleep(25);
    if (groupAlive(pgid)) killGroup(pgid, 'SIGKILL');
    await waitForGroupGone(pgid, clock);
    await children.remove(name, record.supervisor_pid);
    return pgid;
  }
}
