import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { systemClock, type Clock } from './clock.js';

// The one place that probes processes through /proc and signals them: supervisors, server process
// groups, orphans (docs/workloads.md).

/** The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, …, starttime. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When the process started, in clock ticks since boot (/proc/<pid>/stat field 22): with the pid it
 * names one process for the life of the machine, so a recycled pid is told apart. Undefined where
 * /proc is missing or the process is gone.
 */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** The process group of `pid` according to /proc, or undefined. */
export function processGroupOf(pid: number): number | undefined {
  const pgrp = statFields(pid)?.[2];
  return pgrp === undefined ? undefined : Number(pgrp);
}

export function hasProcFs(): boolean {
  return existsSync('/proc/self/stat');
}

/** Whether a process with this pid exists, zombies included (EPERM: it does, as another user's). */
function pidExists(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return true;
}

/** Whether `pid` runs; a zombie (exited, not yet reaped by an init that may never reap it) does not. */
export function isProcessAlive(pid: number): boolean {
  return pidExists(pid) && statFields(pid)?.[0] !== 'Z';
}

/**
 * Alive and (where /proc tells) still a thv process, so a recycled pid is not mistaken for a supervisor.
 * One read where /proc exists: a zombie's command line is empty, so a match also says it is not one
 * (`thv list` asks this once per workload).
 */
export function isSupervisorAlive(pid: number): boolean {
  if (!pidExists(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // No /proc (macOS), or it went in between: as isProcessAlive would answer.
    return isProcessAlive(pid);
  }
  return /supervisor|thv/.test(cmdline);
}

export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Whether any process of the group is still running; zombies waiting for a reaper do not count. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!hasProcFs()) return true;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

/** Grandchildren may outlive the leader for a moment; SIGKILL them and wait (bounded) until none runs. */
export async function waitForGroupGone(pgid: number, clock: Clock = systemClock): Promise<void> {
  for (let i = 0; i < 100 && groupAlive(pgid); i++) {
    if (i % 10 === 0) killGroup(pgid, 'SIGKILL');
    await clock.sleep(20);
  }
}
