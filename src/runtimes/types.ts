import type { Readable, Writable } from 'node:stream';
import type { PermissionProfile } from '../isolation/profile.js';

/**
 * How a workload's server instance is started and stopped (docs/architecture.md, "The Runtime seam").
 * The restart policy, the bridge, statuses and reconciliation live above this seam and are the same
 * for every runtime.
 */
export type RuntimeKind = 'none' | 'sandbox' | 'container'; // 'none' = host process, unconfined

export const RUNTIME_KINDS: readonly RuntimeKind[] = ['none', 'sandbox', 'container'];

export interface LaunchSpec {
  workload: string; // workload name
  command?: string; // process/sandbox (container: optional entrypoint/cmd override)
  args: string[];
  image?: string; // container
  env: Record<string, string>; // the server's full environment (already minimal, secrets included)
  cwd?: string;
  transport: 'stdio' | 'sse' | 'streamable-http';
  targetPort?: number; // http transports inside a container
  profile: PermissionProfile;
  labels?: Record<string, string>;
}

export interface ServerInstance {
  /** Host pid of the group leader (process/sandbox): child records, orphan clean-up. */
  pid?: number;
  containerId?: string;
  /** Stdio servers: the bridge talks to these exactly as to a process. */
  stdin?: Writable;
  stdout?: Readable;
  /** Http servers: where the proxy sends requests. */
  url?: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Polite stop (SIGTERM to the group / container stop). */
  terminate(): void;
  /** Synchronous last resort (SIGKILL to the group / best effort). */
  kill(): void;
}

export interface Runtime {
  readonly kind: RuntimeKind;
  /** Why it cannot work here (no bwrap, userns refused, no engine…), with a hint; undefined when usable. */
  unavailable(): Promise<{ reason: string; hint: string } | undefined>;
  /**
   * Once per supervisor start, before the first launch: install npm/PyPI packages, pull/build an image,
   * start the egress proxy… Progress lines go to `onProgress` (stderr of `thv run`).
   */
  prepare(spec: LaunchSpec, onProgress: (line: string) => void): Promise<void>;
  /** One server instance; called again by the restart policy after a crash. */
  launch(spec: LaunchSpec): Promise<ServerInstance>;
  /** After the last instance: close the egress proxy, remove containers/networks. Idempotent. */
  dispose(): Promise<void>;
  /** Describes the isolation in force for `thv status` / API, e.g. "sandbox (bubblewrap 0.8.0), profile none". */
  describe(spec: LaunchSpec): string;
}
