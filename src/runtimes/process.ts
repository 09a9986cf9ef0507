import { spawn } from 'node:child_process';
import { ThvError } from '../core/errors.js';
import { killGroup, waitForGroupGone } from '../core/processes.js';
import type { LaunchSpec, Runtime, ServerInstance } from './types.js';

/**
 * Today's host process, unconfined: spawned without a shell as the leader of its own process group,
 * so stop and crash clean-up reach its whole tree.
 */
export class ProcessRuntime implements Runtime {
  readonly kind = 'none' as const;

  async unavailable(): Promise<undefined> {
    return undefined;
  }

  async prepare(): Promise<void> {}

  launch(spec: LaunchSpec): Promise<ServerInstance> {
    const { command, args, env, cwd } = spec;
    if (!command) return Promise.reject(new Error(`workload ${spec.workload} has no command to run as a process`));
    return spawnGroupLeader(command, args, { env, ...(cwd ? { cwd } : {}) }, (err) =>
      err.code === 'ENOENT'
        ? new ThvError('runtime_unavailable', `command "${command}" was not found`, { cause: err, hint: 'Check the command, or install it and make sure it is on PATH.' })
        : new ThvError('workload_failed', `failed to start "${command}": ${err.message}`, { cause: err }),
    );
  }

  async dispose(): Promise<void> {}

  describe(): string {
    return 'none (host process, unconfined)';
  }
}

/**
 * Spawns `command` without a shell as the leader of its own process group, piping stdin/stdout, and
 * resolves once it runs. Shared by the host-process and sandbox runtimes: `exited` resolves when the
 * whole group is gone, and terminate/kill signal the group. `startError` turns a spawn failure
 * into the runtime's own error.
 */
export function spawnGroupLeader(
  command: string,
  args: string[],
  options: { env: Record<string, string>; cwd?: string },
  startError: (err: NodeJS.ErrnoException) => Error,
): Promise<ServerInstance> {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['pipe', 'pipe', 'pipe'], shell: false, windowsHide: true });
  // The server's stderr goes through this process's stderr (the supervisor's capped log writer,
  // docs/workloads.md#logs) rather than straight into the log file, so a flood cannot pass the cap.
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return new Promise((resolve, reject) => {
    child.once('spawn', () => {
      const pid = child.pid!;
      // A child that dies while we write must not crash the supervisor with EPIPE.
      child.stdin!.on('error', () => undefined);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
        child.once('exit', (code, signal) => {
          // Grandchildren of a server must not outlive it.
          killGroup(pid, 'SIGKILL');
          void waitForGroupGone(pid).then(() => done({ code, signal }));
        });
      });
      resolve({ pid, stdin: child.stdin!, stdout: child.stdout!, exited, terminate: () => killGroup(pid, 'SIGTERM'), kill: () => killGroup(pid, 'SIGKILL') });
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      reject(startError(err));
    });
  });
}
