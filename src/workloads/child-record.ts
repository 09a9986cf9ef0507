import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Paths } from '../core/paths.js';
import { readOwnFileIfExists, writeJsonAtomic } from '../core/files.js';
import { groupAlive, hasProcFs, processGroupOf, processStartTime } from '../core/processes.js';

/**
 * What a supervisor records about its MCP server process, so that reconciliation can stop the
 * server's process group when the supervisor died without cleaning up (kill -9). Kept out of the
 * status file, whose JSON shape is fixed (docs/workloads.md#files).
 */
export interface ChildRecord {
  supervisor_pid: number;
  /** The child's pid, which is also its process group id (it is spawned detached). */
  pgid: number;
  /** /proc start time of the child when it was spawned; undefined where /proc is missing. */
  start_time?: string;
}

/** `$XDG_DATA_HOME/toolhive/statuses/<name>.child`, 0600, written atomically (not `.json`: it is no status file). */
export class ChildRecordStore {
  constructor(private readonly paths: Paths) {}

  file(name: string): string {
    return join(this.paths.statusesDir, `${name}.child`);
  }

  async write(name: string, record: ChildRecord): Promise<void> {
    await writeJsonAtomic(this.file(name), record);
  }

  async read(name: string): Promise<ChildRecord | undefined> {
    const text = await readOwnFileIfExists(this.file(name));
    if (text === undefined) return undefined;
    try {
      const raw = JSON.parse(text) as Partial<ChildRecord>;
      if (!Number.isInteger(raw.supervisor_pid) || !Number.isInteger(raw.pgid) || (raw.pgid as number) <= 1) return undefined;
      return { supervisor_pid: raw.supervisor_pid!, pgid: raw.pgid!, ...(typeof raw.start_time === 'string' ? { start_time: raw.start_time } : {}) };
    } catch {
      return undefined;
    }
  }

  /** Removes the record, but only the one written by `supervisorPid` when given (never a successor's). */
  async remove(name: string, supervisorPid?: number): Promise<void> {
    if (supervisorPid !== undefined && (await this.read(name))?.supervisor_pid !== supervisorPid) return;
    await rm(this.file(name), { force: true });
  }
}

/**
 * The record name of the second copy of a server that a dual-era bridge starts for the other
 * protocol era (docs/workloads.md#protocol-eras): `<name>@2025.child`, which no workload name can
 * collide with (`@` is not allowed in names).
 */
export function otherEraRecordName(name: string): string {
  return `${name}@2025`;
}

/** The record of a child spawned just now. */
export function childRecord(supervisorPid: number, childPid: number): ChildRecord {
  const startTime = processStartTime(childPid);
  return { supervisor_pid: supervisorPid, pgid: childPid, ...(startTime ? { start_time: startTime } : {}) };
}

/**
 * Whether the recorded group still runs and is still the workload's. The leader, if alive, must
 * have the recorded start time and still lead the group (a recycled pid fails this). A group whose
 * leader is gone but whose members run is still the same group: Linux does not hand out a pid that
 * is still some group's id. Without /proc nothing can be verified, so nothing is claimed.
 */
export function isRecordedGroupRunning(record: ChildRecord): boolean {
  if (!hasProcFs() || !record.start_time) return false;
  const leaderStart = processStartTime(record.pgid);
  if (leaderStart !== undefined) {
    return leaderStart === record.start_time && processGroupOf(record.pgid) === record.pgid && groupAlive(record.pgid);
  }
  return groupAlive(record.pgid);
}
