import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { ThvError } from '../core/errors.js';
import { killGroup, waitForGroupGone } from './process-group.js';

/** How crashed children are restarted: exponential backoff, reset once a child has stayed up. */
export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Consecutive crashes (each before `stableAfterMs`) after which the supervisor gives up. */
  maxConsecutiveCrashes: number;
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxConsecutiveCrashes: 10,
  stableAfterMs: 60_000,
};

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** "exited with code 3", "killed by SIGKILL", "failed to start: …" */
  reason: string;
  /** Delay before the next start, or undefined when no restart follows. */
  restartInMs: number | undefined;
  consecutiveCrashes: number;
}

export interface SupervisedProcessOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  clock?: Clock;
  policy?: RestartPolicy;
  /** Grace period between SIGTERM and SIGKILL on stop. */
  stopGraceMs?: number;
  onStdout(chunk: string): void;
  onStart(pid: number, restarts: number): void;
  onExit(info: ExitInfo): void;
  onGiveUp(info: ExitInfo): void;
}

/** A child that exited during its start-up window (`startWithin`); `reason` as in ExitInfo. */
export class EarlyExitError extends Error {
  constructor(readonly reason: string) {
    super(`the MCP server ${reason} during start-up`);
  }
}

export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

/**
 * One child process, spawned without a shell as the leader of its own process group (so stop and
 * crash clean-up reach its whole tree), restarted with backoff when it exits on its own.
 */
export class SupervisedProcess {
  private child: ChildProcessWithoutNullStreams | undefined;
  private stopping = false;
  private startedAt = 0;
  private crashes = 0;
  private restarts = 0;
  private readonly backoff = new AbortController();
  private exited: Promise<void> = Promise.resolve();
  /** Set during the start-up window: an exit then fails the start instead of entering the restart loop. */
  private onEarlyExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  private readonly clock: Clock;
  private readonly policy: RestartPolicy;

  constructor(private readonly options: SupervisedProcessOptions) {
    this.clock = options.clock ?? systemClock;
    this.policy = options.policy ?? DEFAULT_RESTART_POLICY;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the child; rejects when it cannot be started at all (e.g. the program does not exist). */
  start(): Promise<number> {
    const { command, args, env, cwd } = this.options;
    const child = spawn(command, args, { env, cwd, detached: true, stdio: ['pipe', 'pipe', 'inherit'], shell: false, windowsHide: true });
    this.child = child as unknown as ChildProcessWithoutNullStreams;
    let markExited: () => void = () => undefined;
    this.exited = new Promise((resolve) => (markExited = resolve));
    return new Promise((resolve, reject) => {
      let started = false;
      child.once('spawn', () => {
        started = true;
        this.startedAt = this.clock.now();
        child.stdout!.setEncoding('utf8').on('data', (d: string) => this.options.onStdout(d));
        // A child that dies while we write must not crash the supervisor with EPIPE.
        child.stdin!.on('error', () => undefined);
        this.options.onStart(child.pid!, this.restarts);
        resolve(child.pid!);
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (started) return;
        markExited();
        this.child = undefined;
        reject(
          err.code === 'ENOENT'
            ? new ThvError('runtime_unavailable', `command "${command}" was not found`, { cause: err, hint: 'Check the command, or install it and make sure it is on PATH.' })
            : new ThvError('workload_failed', `failed to start "${command}": ${err.message}`, { cause: err }),
        );
      });
      child.once('exit', (code, signal) => {
        if (!started) return;
        killGroup(child.pid!, 'SIGKILL');
        this.child = undefined;
        markExited();
        if (this.stopping) return;
        const early = this.onEarlyExit;
        this.onEarlyExit = undefined;
        if (early) early(code, signal);
        else void this.crashed(code, signal);
      });
    });
  }

  /**
   * The first start: resolves once the child has stayed up for `graceMs` (at once for 0). A child
   * that exits sooner is not restarted — a server that cannot start (a missing key, a bad flag)
   * would only fail again — and the promise rejects with an EarlyExitError.
   */
  async startWithin(graceMs: number): Promise<number> {
    const pid = await this.start();
    if (graceMs <= 0) return pid;
    const exitedEarly = new AbortController();
    return new Promise((resolve, reject) => {
      this.onEarlyExit = (code, signal) => {
        exitedEarly.abort();
        reject(new EarlyExitError(exitReason(code, signal)));
      };
      this.clock.sleep(graceMs, exitedEarly.signal).then(
        () => {
          this.onEarlyExit = undefined;
          resolve(pid);
        },
        () => undefined, // the child exited early; already rejected
      );
    });
  }

  write(line: string): void {
    this.child?.stdin.write(`${line}\n`);
  }

  private async crashed(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const reason = exitReason(code, signal);
    if (this.clock.now() - this.startedAt >= this.policy.stableAfterMs) this.crashes = 0;
    this.crashes++;
    if (this.crashes > this.policy.maxConsecutiveCrashes) {
      this.options.onGiveUp({ code, signal, reason, restartInMs: undefined, consecutiveCrashes: this.crashes - 1 });
      return;
    }
    const delay = Math.min(this.policy.initialDelayMs * 2 ** (this.crashes - 1), this.policy.maxDelayMs);
    this.options.onExit({ code, signal, reason, restartInMs: delay, consecutiveCrashes: this.crashes });
    for (;;) {
      try {
        await this.clock.sleep(delay, this.backoff.signal);
      } catch {
        return; // stopped during the backoff
      }
      if (this.stopping) return;
      this.restarts++;
      try {
        await this.start();
        return;
      } catch (err) {
        this.crashes++;
        const info = { code: null, signal: null, reason: `failed to start: ${(err as Error).message}`, restartInMs: delay, consecutiveCrashes: this.crashes };
        if (this.crashes > this.policy.maxConsecutiveCrashes) {
          this.options.onGiveUp({ ...info, restartInMs: undefined });
          return;
        }
        this.options.onExit(info);
      }
    }
  }

  /** SIGTERM to the whole group, SIGKILL after the grace period; resolves when the group is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.backoff.abort();
    const child = this.child;
    if (child?.pid) {
      const pid = child.pid;
      child.stdin.end();
      killGroup(pid, 'SIGTERM');
      const grace = new AbortController();
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        this.clock.sleep(this.options.stopGraceMs ?? 5_000, grace.signal).then(() => true, () => false),
      ]);
      grace.abort();
      if (timedOut) killGroup(pid, 'SIGKILL');
      await this.exited;
      await waitForGroupGone(pid);
    }
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    if (this.child?.pid) killGroup(this.child.pid, 'SIGKILL');
  }
}
