import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { ProcessRuntime } from '../runtimes/process.js';
import type { LaunchSpec, Runtime, ServerInstance } from '../runtimes/types.js';

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
  /** What to start; launched again by the restart policy after a crash. */
  spec: LaunchSpec;
  /** How to start it (default: a host process). */
  runtime?: Runtime;
  clock?: Clock;
  policy?: RestartPolicy;
  /** Grace period between SIGTERM and SIGKILL on stop. */
  stopGraceMs?: number;
  onStdout(chunk: string): void;
  /** `pid`: the host pid of the instance's group leader, where the runtime has one. */
  onStart(pid: number | undefined, restarts: number): void;
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
 * One server instance at a time, started through a Runtime (docs/architecture.md, "The Runtime
 * seam"), restarted with backoff when it exits on its own.
 */
export class SupervisedProcess {
  private child: ServerInstance | undefined;
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
  private readonly runtime: Runtime;

  constructor(private readonly options: SupervisedProcessOptions) {
    this.clock = options.clock ?? systemClock;
    this.policy = options.policy ?? DEFAULT_RESTART_POLICY;
    this.runtime = options.runtime ?? new ProcessRuntime();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Where the current instance of an SSE/streamable-HTTP server answers (a container's port). */
  get url(): string | undefined {
    return this.child?.url;
  }

  /** Starts an instance; rejects when it cannot be started at all (e.g. the program does not exist). */
  async start(): Promise<number | undefined> {
    let markExited: () => void = () => undefined;
    this.exited = new Promise((resolve) => (markExited = resolve));
    let instance: ServerInstance;
    try {
      instance = await this.runtime.launch(this.options.spec);
    } catch (err) {
      markExited();
      this.child = undefined;
      throw err;
    }
    this.child = instance;
    this.startedAt = this.clock.now();
    instance.stdout?.setEncoding('utf8').on('data', (d: string) => this.options.onStdout(d));
    void instance.exited.then(({ code, signal }) => {
      this.child = undefined;
      markExited();
      if (this.stopping) return;
      const early = this.onEarlyExit;
      this.onEarlyExit = undefined;
      if (early) early(code, signal);
      else void this.crashed(code, signal);
    });
    this.options.onStart(instance.pid, this.restarts);
    return instance.pid;
  }

  /**
   * The first start: resolves once the child has stayed up for `graceMs` (at once for 0). A child
   * that exits sooner is not restarted — a server that cannot start (a missing key, a bad flag)
   * would only fail again — and the promise rejects with an EarlyExitError.
   */
  async startWithin(graceMs: number): Promise<number | undefined> {
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
    this.child?.stdin?.write(`${line}\n`);
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

  /** A polite stop (SIGTERM to the group), the last resort after the grace period; resolves when the instance is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.backoff.abort();
    const child = this.child;
    if (child) {
      child.stdin?.end();
      child.terminate();
      const grace = new AbortController();
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        this.clock.sleep(this.options.stopGraceMs ?? 5_000, grace.signal).then(() => true, () => false),
      ]);
      grace.abort();
      if (timedOut) child.kill();
      await this.exited;
    }
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    this.child?.kill();
  }
}
