import { existsSync, readFileSync, readdirSync } from 'node:fs';

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
export async function waitForGroupGone(pgid: number): Promise<void> {
  for (let i = 0; i < 100 && groupAlive(pgid); i++) {
    if (i % 10 === 0) killGroup(pgid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}
