import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Paths } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { log as defaultLog } from '../core/log.js';
import { ThvError, isThvError, notFound } from '../core/errors.js';
import { checkName, isValidName } from '../core/names.js';
import { withFileLock } from '../core/files.js';
import { isProcessAlive, signalProcess } from '../core/processes.js';
import type { CatalogServer } from '../registry/types.js';
import type { SecretsProvider } from '../secrets/provider.js';
import { RunConfigStore } from './run-config-store.js';
import { StatusStore } from './status-store.js';
import { GroupStore, DEFAULT_GROUP } from './groups.js';
import { resolveSource } from './sources.js';
import { noEngineForImage, pickRuntime } from './runtime-choice.js';
import { engineAvailable } from '../runtimes/container/workload.js';
import { engineContainers, prepareWorkloadImage, reconcileWithEngine, removeWorkloadContainers, type ContainerDeps } from './containers.js';
import { defaultSupervisorEntry, launchSupervisor } from './launcher.js';
import { startupGraceMs } from './startup-window.js';
import { startSupervisor, type RunningSupervisor } from './supervisor.js';
import { ChildRecordStore, isRecordedGroupRunning } from './child-record.js';
import { WorkloadCredentials } from './credentials.js';
import { Reconciler } from './reconcile.js';
import { buildRunConfig, checkWorkloadName, type RunRequest } from './run-request.js';
import { waitUntilRunning } from './wait-running.js';
import { hostRuntimes, type RuntimeRegistry } from '../runtimes/index.js';
import { chooseProfile, chooseRuntime, requireRuntime, unconfinedWarning } from './isolation.js';
import { LIVE_STATUSES, toWorkloadInfo, workloadUrl, type RunConfig, type StatusFile, type WorkloadInfo, type WorkloadObserver } from './types.js';
import { envText } from '../core/env.js';

export type { RemoteAuthInput, RunRequest, SecretRef } from './run-request.js';

export interface WorkloadManagerDeps {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  clock?: Clock;
  log?: Logger;
  /** Registry lookup for `thv run <name>`; errors (auth included) propagate unchanged. */
  getServer?: (name: string) => Promise<CatalogServer>;
  /** The raw secrets provider, opened only when a workload has secrets. */
  openSecrets?: () => Promise<SecretsProvider>;
  supervisorEntry?: string;
  /** The detached supervisors' environment, when it differs from `env` (the REST API adds TOOLHIVE_NON_INTERACTIVE). */
  supervisorEnv?: NodeJS.ProcessEnv;
  /** How long `stop` waits for a supervisor before killing it. */
  stopTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL for the server of a supervisor that died. */
  orphanGraceMs?: number;
  /** Told after a start and a stop (client config files follow workloads through it). */
  observer?: WorkloadObserver;
  /** RuntimeKind → Runtime, for the availability check of `thv run` (default: this host's). */
  runtimes?: RuntimeRegistry;
  /** Progress of slow steps before a start (installing a package for the sandbox). */
  onProgress?: (line: string) => void;
}

/**
 * Workload life cycle (docs/workloads.md), shared by the CLI and the REST API: create, start, stop,
 * restart, remove, list. Run configs are built in run-request.ts, secrets handled in
 * credentials.ts, dead supervisors and orphans reconciled in reconcile.ts.
 */
export class WorkloadManager {
  readonly runConfigs: RunConfigStore;
  readonly statuses: StatusStore;
  readonly groups: GroupStore;
  readonly children: ChildRecordStore;
  private readonly clock: Clock;
  private readonly credentials: WorkloadCredentials;
  private readonly reconciler: Reconciler;

  constructor(private readonly deps: WorkloadManagerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.runConfigs = new RunConfigStore(deps.paths);
    this.statuses = new StatusStore(deps.paths, this.clock);
    this.groups = new GroupStore(deps.paths, this.clock);
    this.children = new ChildRecordStore(deps.paths);
    const log = () => deps.log ?? defaultLog();
    this.credentials = new WorkloadCredentials(deps.openSecrets, log);
    this.reconciler = new Reconciler({
      statuses: this.statuses,
      children: this.children,
      clock: this.clock,
      log,
      ...(deps.orphanGraceMs !== undefined ? { orphanGraceMs: deps.orphanGraceMs } : {}),
      // A container outlives a supervisor killed with SIGKILL; nothing else would ever stop it.
      onDeadSupervisor: async (name) => {
        if ((await this.runConfigs.read(name).catch(() => undefined))?.runtime === 'container') await removeWorkloadContainers(this.containerDeps(), name);
      },
    });
  }

  private runtimeRegistry: RuntimeRegistry | undefined;
  /** The runtimes this host offers; built on first use (only `thv run` of a local server needs one). */
  private runtimes(): RuntimeRegistry {
    return (this.runtimeRegistry ??= this.deps.runtimes ?? hostRuntimes({ paths: this.deps.paths, env: this.deps.env, log: this.deps.log ?? defaultLog() }));
  }

  logFile(name: string): string {
    return join(this.deps.paths.logsDir, `${checkName('workload', name)}.log`);
  }

  /**
   * Builds and stores the run config of a new workload, without starting it. The name check and the
   * write happen under one lock per name, so of concurrent creates (CLI or API) exactly one wins and
   * the others get `already_exists`.
   */
  async create(req: RunRequest, warnings: string[] = []): Promise<RunConfig> {
    const planned = await this.plan(req, warnings);
    const { config, credentials } = planned;
    return withFileLock(`${this.runConfigs.file(config.name)}.create`, async () => {
      const replacesFailed = await this.nameTakenByFailedWorkload(config.name);
      // Removed only now, so a refused request leaves the failed workload for inspection.
      if (replacesFailed) await this.remove(config.name);
      await this.store(config, credentials);
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
    const { config, credentials } = await this.plan({ ...req, name }, warnings);
    await withFileLock(`${this.runConfigs.file(name)}.create`, async () => {
      if (await this.runConfigs.read(name)) await this.remove(name);
      await this.store(config, credentials);
    }, { waitMs: 60_000 });
    const started = await this.start(name);
    return { name, url: started.url, port: started.port, warnings };
  }

  /** Everything is validated before a credential reaches the secrets store, so a refused request leaves nothing behind. */
  private async plan(req: RunRequest, warnings: string[]): Promise<{ config: RunConfig; credentials: Parameters<WorkloadCredentials['store']>[0] }> {
    const resolved = await resolveSource(req.target, req.command ?? [], {
      env: this.deps.env,
      getServer: this.deps.getServer ?? (async () => Promise.reject(new ThvError('registry_unavailable', 'no registry is available'))),
      ...(req.cwd ? { cwd: req.cwd } : {}),
    }, req.transport);
    const picked = resolved.remoteUrl ? req.runtime : await pickRuntime(req.runtime, resolved, () => engineAvailable(this.deps.env));
    const name = req.name ?? resolved.suggestedName;
    checkWorkloadName(name);
    const group = req.group ?? DEFAULT_GROUP;
    await this.groups.require(group);
    // Isolation (docs/isolation.md, docs/runtimes.md): chosen and checked before anything is stored, so a
    // host where the runtime cannot work refuses with the reason instead of leaving a workload in error.
    const runtime = chooseRuntime(picked, Boolean(resolved.remoteUrl));
    if (runtime !== 'container' && resolved.runnerMissing) throw resolved.runnerMissing;
    const permissionProfile = resolved.remoteUrl ? undefined : chooseProfile(req.permissionProfile, resolved.permissions);
    if (runtime === 'container') {
      await requireRuntime(await this.runtimes().get(runtime)).catch((err: unknown) => {
        throw isThvError(err, 'runtime_unavailable') ? noEngineForImage(resolved.image ?? resolved.buildRef ?? resolved.source.ref, err) : err;
      });
      // docs/runtimes.md, "Limits": the supervisor bridges stdio containers only so far.
      if (resolved.transport !== 'stdio') {
        throw new ThvError('runtime_unavailable', `${resolved.image ?? resolved.source.ref} serves ${resolved.transport} inside its container, and thv runs stdio containers only so far`, {
          hint: 'Run the server\'s npm/PyPI package or its remote URL instead, if it has one.',
        });
      }
    } else if (runtime !== 'none') await requireRuntime(await this.runtimes().get(runtime));
    else if (!resolved.remoteUrl) warnings.push(unconfinedWarning(name));
    const isolated: RunRequest = { ...req, runtime, ...(permissionProfile ? { permissionProfile } : {}) };
    return buildRunConfig(isolated, resolved, { name, group, createdAt: new Date(this.clock.now()).toISOString() }, warnings);
  }

  private async store(config: RunConfig, credentials: Parameters<WorkloadCredentials['store']>[0]): Promise<void> {
    await this.credentials.store(credentials);
    try {
      await this.runConfigs.write(config);
    } catch (err) {
      await this.credentials.deleteFor(config);
      throw err;
    }
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
        const image = await prepareWorkloadImage(this.containerDeps(), config, { ...(req.runtimeImage ? { runtimeImage: req.runtimeImage } : {}), ...(req.onProgress ? { onProgress: req.onProgress } : {}) });
        if (image !== config.image) await this.runConfigs.write({ ...config, image });
      }
      const started = await this.start(config.name);
      return { name: config.name, url: started.url, port: started.port, warnings };
    } catch (err) {
      // Failed before a supervisor ran (e.g. a missing secret): nothing to inspect, so let the same
      // command be retried. A supervisor's failure stays visible in `thv list`.
      if (!(await this.statuses.read(config.name))) {
        await this.runConfigs.remove(config.name);
        await this.credentials.deleteFor(config);
      }
      throw err;
    }
  }

  /** Starts a stopped workload with a detached supervisor; a running one is left as it is. */
  async start(name: string): Promise<{ url: string; port: number; alreadyRunning: boolean }> {
    // Two concurrent starts of one workload must not launch two supervisors.
    const started = await withFileLock(this.runConfigs.file(name), () => this.startLocked(name), { waitMs: 90_000 });
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
      (this.deps.log ?? defaultLog()).warn({ err: err instanceof Error ? err.message : String(err) }, 'a workload observer failed');
    }
  }

  private async startLocked(name: string): Promise<{ url: string; port: number; alreadyRunning: boolean }> {
    const config = await this.runConfigs.get(name);
    const current = await this.reconciledStatus(name);
    if (current && LIVE_STATUSES.has(current.status) && current.status !== 'stopping') {
      return { url: workloadUrl(config), port: config.port ?? 0, alreadyRunning: true };
    }
    await this.reconciler.stopOrphanedServer(name);
    const secrets = await this.credentials.resolve(config);
    // A package for the sandbox is installed here, where the user sees the progress, rather than in
    // the supervisor within its start-up timeout; the supervisor then finds it installed.
    if (config.runtime === 'sandbox' && config.command) {
      const sandbox = await this.runtimes().get('sandbox');
      if ('install' in sandbox && typeof sandbox.install === 'function') {
        await (sandbox as { install(command: string, args: string[], onProgress: (line: string) => void): Promise<unknown> }).install(config.command, config.args, this.deps.onProgress ?? (() => undefined));
      }
    }
    await this.statuses.set(name, 'starting', '', { processId: 0 });
    try {
      const supervisorEnv = this.deps.supervisorEnv ?? this.deps.env;
      // A remote OAuth workload stores refreshed tokens, so its supervisor needs the store's
      // password: on stdin, never in its environment (docs/isolation.md, "Secrets").
      const password = envText(supervisorEnv, 'TOOLHIVE_SECRETS_PASSWORD');
      if (config.remote_auth?.enabled && password) secrets.supervisorEnv = { TOOLHIVE_SECRETS_PASSWORD: password };
      const started = await launchSupervisor({
        name,
        entry: this.deps.supervisorEntry ?? defaultSupervisorEntry(),
        env: supervisorEnv,
        // The supervisor reports only after a stdio server's start-up window; the wait must cover it.
        timeoutMs: 60_000 + startupGraceMs(supervisorEnv),
        logFile: this.logFile(name),
        cwd: config.cwd ?? process.cwd(),
        secrets,
      });
      return { url: started.url, port: started.port, alreadyRunning: false };
    } catch (err) {
      const status = await this.statuses.read(name);
      if (status && LIVE_STATUSES.has(status.status)) {
        await this.statuses.set(name, 'error', err instanceof Error ? err.message : String(err));
      }
      throw err;
    }
  }

  /**
   * After a start, until the workload runs: a remote OAuth login happens in the supervisor after it
   * reported ready, so the status is `starting`, then `unauthenticated` with the authorization URL
   * (passed to `onLoginRequired` once per URL) until the user logs in. Bounded by the login timeout.
   */
  async waitUntilRunning(name: string, options: { onLoginRequired(context: string): void; timeoutMs?: number }): Promise<WorkloadInfo> {
    const config = await this.runConfigs.get(name);
    return waitUntilRunning(config, { env: this.deps.env, clock: this.clock, status: async () => toWorkloadInfo(config, await this.reconciledStatus(name)) }, options);
  }

  /** `thv run --foreground`: the supervisor runs in this process. */
  async startInProcess(name: string, log: Logger): Promise<RunningSupervisor> {
    const config = await this.runConfigs.get(name);
    const secrets = await this.credentials.resolve(config);
    if (config.cwd) process.chdir(config.cwd);
    return startSupervisor(name, { paths: this.deps.paths, env: this.deps.env, log, secrets, clock: this.clock });
  }

  async stop(name: string): Promise<{ wasRunning: boolean }> {
    const config = await this.requireKnown(name);
    const result = await this.stopProcess(name);
    if (config && this.deps.observer?.stopped) await this.notify(() => this.deps.observer!.stopped!({ name, group: config.group }));
    return result;
  }

  private async stopProcess(name: string): Promise<{ wasRunning: boolean }> {
    const pid = await this.liveSupervisor(name);
    if (pid === undefined) {
      const status = await this.statuses.read(name);
      if (status && LIVE_STATUSES.has(status.status)) await this.statuses.set(name, 'stopped', '');
      await this.reconciler.stopOrphanedServer(name);
      return { wasRunning: false };
    }
    signalProcess(pid, 'SIGTERM');
    const deadline = this.clock.now() + (this.deps.stopTimeoutMs ?? 15_000);
    while (isProcessAlive(pid) && this.clock.now() < deadline) await this.clock.sleep(25);
    if (isProcessAlive(pid)) {
      (this.deps.log ?? defaultLog()).warn({ workload: name, pid }, 'the supervisor did not stop in time; killing it');
      signalProcess(pid, 'SIGKILL');
      while (isProcessAlive(pid)) await this.clock.sleep(25);
      await this.statuses.set(name, 'stopped', 'the supervisor was killed after it did not stop in time', { onlyIf: (s) => s?.process_id === pid });
    }
    // A supervisor that was killed (or whose status was damaged) may leave its server's group behind.
    await this.reconciler.stopOrphanedServer(name);
    return { wasRunning: true };
  }

  /**
   * The pid of the workload's running supervisor: from the status file, or — when that file is
   * damaged or was overwritten — from the record the supervisor keeps of its server's process group,
   * so a damaged file never hides a live supervisor (docs/workloads.md#damaged-state).
   */
  private async liveSupervisor(name: string): Promise<number | undefined> {
    const status = await this.reconciledStatus(name);
    if (status && LIVE_STATUSES.has(status.status) && status.process_id > 0 && isProcessAlive(status.process_id)) return status.process_id;
    const record = await this.children.read(name);
    if (record && isProcessAlive(record.supervisor_pid) && isRecordedGroupRunning(record)) return record.supervisor_pid;
    return undefined;
  }

  /** A workload exists when any of its files does, readable or not; otherwise not_found. */
  private async requireKnown(name: string): Promise<RunConfig | undefined> {
    const config = await this.readConfigTolerantly(name);
    if (config.config) return config.config;
    if (config.problem || (await this.statuses.read(name)) || (await this.children.read(name))) return undefined;
    throw notFound(`workload "${name}" not found`, 'Run `thv list --all` to see workloads.');
  }

  private async readConfigTolerantly(name: string): Promise<{ config?: RunConfig; problem?: string }> {
    try {
      const config = await this.runConfigs.read(name);
      return config ? { config } : {};
    } catch (err) {
      if (isThvError(err, 'config_invalid')) return { problem: err.message };
      throw err;
    }
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
    const config = await this.requireKnown(name);
    await this.stop(name);
    await this.statuses.set(name, 'removing', '');
    if (config) await this.credentials.deleteFor(config);
    await this.reconciler.stopOrphanedServer(name);
    // `thv rm` leaves no container, network or volume behind, even when the supervisor died.
    if (config?.runtime === 'container') await removeWorkloadContainers(this.containerDeps(), name);
    await this.runConfigs.remove(name);
    await this.statuses.remove(name);
    await this.children.remove(name);
    await rm(`${this.statuses.file(name)}.lock`, { recursive: true, force: true });
    await rm(this.logFile(name), { force: true });
    await rm(`${this.logFile(name)}.1`, { force: true });
  }

  /**
   * `thv list`: live and failed workloads; with `all`, stopped ones too. Dead supervisors are
   * reported, never shown running; a workload whose files are damaged is shown `unknown` with the
   * reason, never hidden.
   */
  async list(options: { all?: boolean; group?: string } = {}): Promise<WorkloadInfo[]> {
    const infos: WorkloadInfo[] = [];
    let engine: ReturnType<typeof engineContainers> | undefined;
    const names = new Set([...(await this.runConfigs.names()), ...(await this.statuses.names())]);
    for (const name of [...names].sort()) {
      if (!isValidName('workload', name)) continue;
      const { config, problem } = await this.readConfigTolerantly(name);
      if (!config) {
        if (!problem || options.group) continue;
        infos.push(await this.damagedInfo(name, problem));
        continue;
      }
      if (options.group && config.group !== options.group) continue;
      const info = toWorkloadInfo(config, await this.reconciledStatus(name));
      if (config.runtime === 'container') await reconcileWithEngine(info, (engine ??= engineContainers(this.deps.env)));
      if (info.status === 'unknown' && info.process_id === 0) {
        const pid = await this.liveSupervisor(name);
        if (pid) info.process_id = pid;
      }
      if (options.all || info.status !== 'stopped') infos.push(info);
    }
    return infos;
  }

  private async damagedInfo(name: string, problem: string): Promise<WorkloadInfo> {
    const pid = await this.liveSupervisor(name);
    return {
      name,
      package: '',
      url: '',
      port: 0,
      tool_type: 'mcp',
      transport_type: 'stdio',
      proxy_mode: 'streamable-http',
      status: 'unknown',
      status_context: `${problem}${pid ? `; its supervisor (pid ${pid}) is still running` : ''}; \`thv rm ${name}\` stops and removes it`,
      created_at: '',
      group: '',
      remote: false,
      process_id: pid ?? 0,
    };
  }

  async status(name: string): Promise<WorkloadInfo> {
    const config = await this.runConfigs.get(name);
    const info = toWorkloadInfo(config, await this.reconciledStatus(name));
    if (config.runtime === 'container') await reconcileWithEngine(info, engineContainers(this.deps.env));
    return info;
  }

  private containerDeps(): ContainerDeps {
    return { env: this.deps.env, paths: this.deps.paths, log: () => this.deps.log ?? defaultLog() };
  }

  /** The status file, corrected when it claims a live supervisor that is gone (list reconciles). */
  reconciledStatus(name: string): Promise<StatusFile | undefined> {
    return this.reconciler.status(name);
  }
}
