import { rm } from 'node:fs/promises';
import type { Logger } from '../core/log.js';
import { ThvError } from '../core/errors.js';
import { withFileLock } from '../core/files.js';
import type { RunConfigStore } from './run-config-store.js';
import type { StatusStore } from './status-store.js';
import type { GroupStore } from './groups.js';
import { otherEraRecordName, type ChildRecordStore } from './child-record.js';
import { prepareWorkloadImage, removeWorkloadContainers } from './containers.js';
import { startSupervisor, type RunningSupervisor } from './supervisor.js';
import { createManagerContext, type ManagerContext, type WorkloadManagerDeps } from './manager-context.js';
import { planWorkload, storePlanned } from './plan.js';
import { startLocked, type StartResult } from './start.js';
import { stopSupervisor } from './stop.js';
import { listWorkloads, requireKnown, workloadStatus } from './listing.js';
import type { RunRequest } from './run-request.js';
import { waitUntilRunning } from './wait-running.js';
import { LIVE_STATUSES, toWorkloadInfo, type RunConfig, type StatusFile, type WorkloadInfo } from './types.js';

export type { RemoteAuthInput, RunRequest, SecretRef } from './run-request.js';
export type { WorkloadManagerDeps } from './manager-context.js';

/**
 * Workload life cycle (docs/workloads.md), shared by the CLI and the REST API: create, start, stop,
 * restart, remove, list. The parts live beside it, one concern each (docs/architecture.md): the
 * request → run config in plan.ts and run-request.ts, the start in start.ts, the stop in stop.ts,
 * listing in listing.ts, secrets in credentials.ts, dead supervisors and orphans in reconcile.ts.
 */
export class WorkloadManager {
  readonly runConfigs: RunConfigStore;
  readonly statuses: StatusStore;
  readonly groups: GroupStore;
  readonly children: ChildRecordStore;
  private readonly ctx: ManagerContext;

  constructor(private readonly deps: WorkloadManagerDeps) {
    this.ctx = createManagerContext(deps);
    ({ runConfigs: this.runConfigs, statuses: this.statuses, groups: this.groups, children: this.children } = this.ctx);
  }

  logFile(name: string): string {
    return this.ctx.logFile(name);
  }

  /**
   * Builds and stores the run config of a new workload, without starting it. The name check and the
   * write happen under one lock per name, so of concurrent creates (CLI or API) exactly one wins and
   * the others get `already_exists`.
   */
  async create(req: RunRequest, warnings: string[] = []): Promise<RunConfig> {
    const planned = await planWorkload(this.ctx, req, warnings);
    const { config } = planned;
    return withFileLock(`${this.runConfigs.file(config.name)}.create`, async () => {
      const replacesFailed = await this.nameTakenByFailedWorkload(config.name);
      // Removed only now, so a refused request leaves the failed workload for inspection.
      if (replacesFailed) await this.remove(config.name);
      await storePlanned(this.ctx, planned);
      return config;
    }, { waitMs: 60_000 });
  }

  /**
   * `POST /workloads/{name}/edit`: the new configuration is validated completely before the old
   * workload is stopped and replaced, so a refused edit leaves the workload as it was.
   */
  async replace(name: string, req: RunRequest): Promise<{ name: string; url: string; port: number; warnings: string[] }> {
    await this.runConfigs.get(name);
    const warnings: string[] = [];
    const planned = await planWorkload(this.ctx, { ...req, name }, warnings);
    await withFileLock(`${this.runConfigs.file(name)}.create`, async () => {
      if (await this.runConfigs.read(name)) await this.remove(name);
      await storePlanned(this.ctx, planned);
    }, { waitMs: 60_000 });
    const started = await this.start(name);
    return { name, url: started.url, port: started.port, warnings };
  }

  /**
   * Whether a workload of this name failed (`error`: nothing runs) and is to be replaced, so the
   * same `thv run` can be retried with a fix; a stopped or live one is the user's to start or remove.
   */
  private async nameTakenByFailedWorkload(name: string): Promise<boolean> {
    if (!(await this.runConfigs.read(name))) return false;
    const status = await this.reconciledStatus(name);
    if (status?.status !== 'error') {
      throw new ThvError('already_exists', `workload "${name}" already exists`, { hint: `Start it with \`thv start ${name}\`, remove it with \`thv rm ${name}\`, or choose another --name.` });
    }
    return true;
  }

  /** `thv run`: create, then start detached. A workload that fails to start is left stopped with the reason. */
  async run(req: RunRequest): Promise<{ name: string; url: string; port: number; warnings: string[] }> {
    const warnings: string[] = [];
    const config = await this.create(req, warnings);
    try {
      if (config.runtime === 'container' && config.image) {
        const image = await prepareWorkloadImage(this.ctx.containerDeps(), config, { ...(req.runtimeImage ? { runtimeImage: req.runtimeImage } : {}), ...(req.onProgress ? { onProgress: req.onProgress } : {}) });
        if (image !== config.image) await this.runConfigs.write({ ...config, image });
      }
      const started = await this.start(config.name);
      return { name: config.name, url: started.url, port: started.port, warnings };
    } catch (err) {
      // Failed before a supervisor ran (e.g. a missing secret): nothing to inspect, so let the same
      // command be retried. A supervisor's failure stays visible in `thv list`.
      if (!(await this.statuses.read(config.name))) {
        await this.runConfigs.remove(config.name);
        await this.ctx.credentials.deleteFor(config);
      }
      throw err;
    }
  }

  /** Starts a stopped workload with a detached supervisor; a running one is left as it is. */
  async start(name: string): Promise<StartResult> {
    // Two concurrent starts of one workload must not launch two supervisors.
    const started = await withFileLock(this.runConfigs.file(name), () => startLocked(this.ctx, name), { waitMs: 90_000 });
    if (this.deps.observer?.started) {
      const info = await this.status(name);
      await this.notify(() => this.deps.observer!.started!({ ...info, url: started.url, port: started.port }));
    }
    return started;
  }

  /** Observers report their own problems; one never turns a done start or stop into a failure. */
  private async notify(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.ctx.log().warn({ err: err instanceof Error ? err.message : String(err) }, 'a workload observer failed');
    }
  }

  /**
   * After a start, until the workload runs: a remote OAuth login happens in the supervisor after it
   * reported ready, so the status is `starting`, then `unauthenticated` with the authorization URL
   * (passed to `onLoginRequired` once per URL) until the user logs in. Bounded by the login timeout.
   */
  async waitUntilRunning(name: string, options: { onLoginRequired(context: string): void; timeoutMs?: number }): Promise<WorkloadInfo> {
    const config = await this.runConfigs.get(name);
    return waitUntilRunning(config, { env: this.deps.env, clock: this.ctx.clock, status: async () => toWorkloadInfo(config, await this.reconciledStatus(name)) }, options);
  }

  /** `thv run --foreground`: the supervisor runs in this process. */
  async startInProcess(name: string, log: Logger): Promise<RunningSupervisor> {
    const config = await this.runConfigs.get(name);
    const secrets = await this.ctx.credentials.resolve(config);
    if (config.cwd) process.chdir(config.cwd);
    // The environment a detached supervisor would get: a headless CLI's carries TOOLHIVE_NON_INTERACTIVE.
    return startSupervisor(name, { paths: this.deps.paths, env: this.deps.supervisorEnv ?? this.deps.env, log, secrets, clock: this.ctx.clock });
  }

  async stop(name: string): Promise<{ wasRunning: boolean }> {
    const config = await requireKnown(this.ctx, name);
    const result = await stopSupervisor(this.ctx, name);
    if (config && this.deps.observer?.stopped) await this.notify(() => this.deps.observer!.stopped!({ name, group: config.group }));
    return result;
  }

  async stopAll(group?: string): Promise<string[]> {
    const stopped: string[] = [];
    for (const info of await this.list({ all: false, ...(group ? { group } : {}) })) {
      if ((await this.stop(info.name)).wasRunning) stopped.push(info.name);
    }
    return stopped;
  }

  async restart(name: string): Promise<{ url: string; port: number }> {
    await this.stop(name);
    const started = await this.start(name);
    return { url: started.url, port: started.port };
  }

  async moveToGroup(name: string, group: string): Promise<void> {
    await this.groups.require(group);
    const before = await this.runConfigs.get(name);
    await this.runConfigs.update(name, (config) => ({ ...config, group }));
    // The old group's clients lose the workload; a running one appears in the new group's.
    const observer = this.deps.observer;
    if (!observer || before.group === group) return;
    if (observer.stopped) await this.notify(() => observer.stopped!({ name, group: before.group }));
    const info = await this.status(name);
    if (observer.started && LIVE_STATUSES.has(info.status)) await this.notify(() => observer.started!(info));
  }

  /**
   * Stops the workload and deletes its run config, status file, log and stored credentials. A damaged
   * run config does not stop this: the supervisor is found and stopped anyway (its stored
   * credentials cannot be named then, and stay in the store).
   */
  async remove(name: string): Promise<void> {
    const config = await requireKnown(this.ctx, name);
    await this.stop(name);
    await this.statuses.set(name, 'removing', '');
    if (config) await this.ctx.credentials.deleteFor(config);
    await this.ctx.reconciler.stopOrphanedServer(name);
    // `thv rm` leaves no container, network or volume behind, even when the supervisor died.
    if (config?.runtime === 'container') await removeWorkloadContainers(this.ctx.containerDeps(), name);
    await this.runConfigs.remove(name);
    await this.statuses.remove(name);
    await this.children.remove(name);
    await this.children.remove(otherEraRecordName(name));
    await rm(`${this.statuses.file(name)}.lock`, { recursive: true, force: true });
    await rm(this.logFile(name), { force: true });
    await rm(`${this.logFile(name)}.1`, { force: true });
  }

  /** `thv list` (listing.ts): with `all`, stopped workloads too; damaged ones shown `unknown`, never hidden. */
  list(options: { all?: boolean; group?: string } = {}): Promise<WorkloadInfo[]> {
    return listWorkloads(this.ctx, options);
  }

  status(name: string): Promise<WorkloadInfo> {
    return workloadStatus(this.ctx, name);
  }

  /** The status file, corrected when it claims a live supervisor that is gone (list reconciles). */
  reconciledStatus(name: string): Promise<StatusFile | undefined> {
    return this.ctx.reconciler.status(name);
  }
}
