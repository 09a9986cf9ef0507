import type http from 'node:http';
import type { Paths } from '../core/paths.js';
import type { Logger } from '../core/log.js';
import type { Clock } from '../core/clock.js';
import type { RuntimeRegistry } from '../runtimes/index.js';
import type { RestartPolicy } from './supervised-process.js';
import type { WorkloadStatus } from './types.js';

/** Handed to the supervisor by whoever starts it (on stdin for a detached one); never stored. */
export interface SupervisorSecrets {
  /** `--secret` values by target environment variable. */
  env: Record<string, string>;
  /** Values of secrets-store keys referenced by the run config (remote auth). */
  values: Record<string, string>;
  /**
   * Credential variables the supervisor itself needs (TOOLHIVE_SECRETS_PASSWORD for a remote OAuth
   * workload that stores refreshed tokens); kept out of its process environment (docs/isolation.md).
   */
  supervisorEnv?: Record<string, string>;
}

export interface SupervisorDeps {
  paths: Paths;
  /** The supervisor's own environment: the base of the child's minimal one. */
  env: NodeJS.ProcessEnv;
  log: Logger;
  secrets: SupervisorSecrets;
  clock?: Clock;
  policy?: RestartPolicy;
  stopGraceMs?: number;
  /**
   * How long a stdio server must stay up on its first start before the workload is reported ready
   * (default: TOOLHIVE_STARTUP_GRACE, else 2 s; 0: at once).
   */
  startupGraceMs?: number;
  /** This process's id as recorded in the status file. */
  pid?: number;
  /** Where the runtime named by the run config comes from (default: this process's registry). */
  runtimes?: RuntimeRegistry;
}

export interface RunningSupervisor {
  url: string;
  port: number;
  /** Resolves when the supervisor has stopped (by `stop()` or by giving up on a crashing child). */
  done: Promise<void>;
  stop(context?: string, finalStatus?: WorkloadStatus): Promise<void>;
}

/** What serves the workload's port: the stdio bridge (supervisor-stdio.ts) or the remote proxy (supervisor-remote.ts). */
export interface Upstream {
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Stops serving and releases what it holds (the child and its runtime, or the credentials). */
  close(): Promise<void>;
  /** Kills the child at once, when this process exits without a clean stop. */
  killNow?(): void;
  /** Background work once the workload is reported ready (an OAuth login sets the status from then on). */
  start?(): void;
  /** Settles when the server is up (a stdio server's start-up window); handled requests flow before. */
  ready?: Promise<unknown>;
}
