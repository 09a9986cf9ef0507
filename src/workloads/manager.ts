import { readFileSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Paths } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { log as defaultLog } from '../core/log.js';
import { ThvError, badRequest, notFound } from '../core/errors.js';
import { withFileLock } from '../core/files.js';
import type { CatalogServer } from '../registry/types.js';
import type { SecretsProvider } from '../secrets/provider.js';
import { RunConfigStore } from './run-config-store.js';
import { StatusStore } from './status-store.js';
import { GroupStore, DEFAULT_GROUP } from './groups.js';
import { resolveSource } from './sources.js';
import { defaultSupervisorEntry, launchSupervisor } from './launcher.js';
import { startupGraceMs } from './startup-window.js';
import { startSupervisor, type RunningSupervisor, type SupervisorSecrets } from './supervisor.js';
import { ChildRecordStore, isRecordedGroupRunning } from './child-record.js';
import { groupAlive, killGroup, waitForGroupGone } from '../core/processes.js';
import type { RuntimeKind } from '../runtimes/types.js';
import type { PermissionProfile } from '../isolation/profile.js';
import { DEFAULT_RUNTIME, LIVE_STATUSES, LOGIN_REQUIRED_CONTEXT, NAME_PATTERN, workloadUrl, type RemoteAuthConfig, type RunConfig, type StatusFile, type WorkloadInfo, type WorkloadStatus } from './types.js';

export interface RemoteAuthInput {
  enabled?: boolean;
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  scopes?: string[];
  resource?: string;
  callbackPort?: number;
  skipBrowser?: boolean;
  timeout?: string;
  bearerToken?: string;
  bearerTokenFile?: string;
}

/** `thv run` / `POST /workloads` input. */
export interface RunRequest {
  /** Registry name, npx://…, uvx://… or http(s)://…; undefined with `command` for `-- <command>`. */
  target?: string;
  /** `-- <command> [args]`, or extra arguments for a package target. */
  command?: string[];
  name?: string;
  group?: string;
  transport?: RunConfig['transport'];
  proxyPort?: number;
  host?: string;
  /** `K=V` entries. */
  env?: string[];
  /** `NAME,target=ENV` entries. */
  secrets?: string[];
  /** `Name=value` or `Name: value` headers sent to a remote. */
  headers?: string[];
  remoteAuth?: RemoteAuthInput;
  cwd?: string;
  /** How a local server is started (default: DEFAULT_RUNTIME). */
  runtime?: RuntimeKind;
  /** The resolved permission profile for an isolating runtime. */
  permissionProfile?: PermissionProfile;
}

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
}

/** Workload life cycle (SPEC §5), shared by the CLI and the REST API. */
export class WorkloadManager {
  readonly runConfigs: RunConfigStore;
  readonly statuses: StatusStore;
  readonly groups: GroupStore;
  readonly children: ChildRecordStore;
  private readonly clock: Clock;

  constructor(private readonly deps: WorkloadManagerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.runConfigs = new RunConfigStore(deps.paths);
    this.statuses = new StatusStore(deps.paths, this.clock);
    this.groups = new GroupStore(deps.paths, this.clock);
    this.children = new ChildRecordStore(deps.paths);
  }

  logFile(name: string): string {
    return join(this.deps.paths.logsDir, `${name}.log`);
  }

  /** Builds and stores the run config of a new workload, without starting it. */
  async create(req: RunRequest, warnings: string[] = []): Promise<RunConfig> {
    const resolved = await resolveSource(req.target, req.command ?? [], {
      env: this.deps.env,
      getServer: this.deps.getServer ?? (async () => Promise.reject(new ThvError('registry_unavailable', 'no registry is available'))),
      ...(req.cwd ? { cwd: req.cwd } : {}),
    }, req.transport);
    const name = req.name ?? resolved.suggestedName;
    if (!NAME_PATTERN.test(name)) throw badRequest(`"${name}" is not a valid workload name`, 'Use up to 63 letters, digits, ".", "_" and "-", starting with a letter or digit.');
    const group = req.group ?? DEFAULT_GROUP;
    await this.groups.require(group);
    const replacesFailed = await this.nameTakenByFailedWorkload(name);
    if (req.proxyPort !== undefined && (!Number.isInteger(req.proxyPort) || req.proxyPort < 1 || req.proxyPort > 65535)) {
      throw badRequest(`--proxy-port ${req.proxyPort} is not a port number`);
    }
    const secrets = (req.secrets ?? []).map(parseSecretFlag);
    const env = parseEnvFlags(req.env ?? []);
    if (req.remoteAuth && !resolved.remoteUrl) throw badRequest('--remote-auth flags apply to remote servers only');
    const { plain: plainHeaders, secret: secretHeaders } = splitSecretHeaders(parseHeaderFlags(req.headers ?? []));
    const headers = { ...resolved.headers, ...plainHeaders };
    for (const header of Object.keys(secretHeaders)) deleteHeader(headers, header);
    // Everything is validated before a credential reaches the secrets store, so a refused request leaves nothing behind.
    const toStore: StoredCredential[] = [];
    const remoteAuth = req.remoteAuth ? remoteAuthConfig(name, req.remoteAuth, toStore) : undefined;
    const headerRefs: Record<string, string> = {};
    for (const [header, value] of Object.entries(secretHeaders)) {
      headerRefs[header] = headerSecretKey(name, header);
      toStore.push({ key: headerRefs[header], value });
    }
    const config: RunConfig = {
      schema_version: 1,
      name,
      group,
      source: resolved.source,
      ...(resolved.command ? { command: resolved.command } : {}),
      args: resolved.args,
      ...(resolved.remoteUrl ? { remote_url: resolved.remoteUrl } : {}),
      transport: resolved.remoteUrl ? resolved.transport : 'stdio',
      proxy_mode: !resolved.remoteUrl && req.transport === 'sse' ? 'sse' : 'streamable-http',
      host: req.host ?? '127.0.0.1',
      ...(req.proxyPort ? { port: req.proxyPort } : {}),
      port_fixed: req.proxyPort !== undefined,
      env,
      secrets,
      headers,
      ...(Object.keys(headerRefs).length ? { header_refs: headerRefs } : {}),
      ...(remoteAuth ? { remote_auth: remoteAuth } : {}),
      created_at: new Date(this.clock.now()).toISOString(),
      ...(req.cwd ? { cwd: req.cwd } : {}),
      runtime: req.runtime ?? DEFAULT_RUNTIME,
      ...(req.permissionProfile ? { permission_profile: req.permissionProfile } : {}),
    };
    const given = new Set([...Object.keys(config.env), ...secrets.map((s) => s.target)]);
    for (const v of resolved.requiredEnv ?? []) {
      if (given.has(v.name)) continue;
      const how = v.secret ? `--secret <name>,target=${v.name}` : `-e ${v.name}=<value>`;
      warnings.push(`the server expects ${v.name}${v.description ? ` (${v.description})` : ''}; pass it with ${how}`);
    }
    // Removed only now, so a refused request leaves the failed workload for inspection.
    if (replacesFailed) await this.remove(name);
    await this.storeCredentials(toStore);
    try {
      await this.runConfigs.write(config);
    } catch (err) {
      await this.deleteStoredCredentials(config);
      throw err;
    }
    return config;
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
      const started = await this.start(config.name);
      return { name: config.name, url: started.url, port: started.port, warnings };
    } catch (err) {
      // Failed before a supervisor ran (e.g. a missing secret): nothing to inspect, so let the same
      // command be retried. A supervisor's failure stays visible in `thv list`.
      if (!(await this.statuses.read(config.name))) {
        await this.runConfigs.remove(config.name);
        await this.deleteStoredCredentials(config);
      }
      throw err;
    }
  }

  /** Starts a stopped workload with a detached supervisor; a running one is left as it is. */
  async start(name: string): Promise<{ url: string; port: number; alreadyRunning: boolean }> {
    // Two concurrent starts of one workload must not launch two supervisors.
    return withFileLock(this.runConfigs.file(name), () => this.startLocked(name), { waitMs: 90_000 });
  }

  private async startLocked(name: string): Promise<{ url: string; port: number; alreadyRunning: boolean }> {
    const config = await this.runConfigs.get(name);
    const current = await this.reconciledStatus(name);
    if (current && LIVE_STATUSES.has(current.status) && current.status !== 'stopping') {
      return { url: workloadUrl(config), port: config.port ?? 0, alreadyRunning: true };
    }
    await this.stopOrphanedServer(name);
    const secrets = await this.resolveSecrets(config);
    await this.statuses.set(name, 'starting', '', { processId: 0 });
    try {
      const supervisorEnv = this.deps.supervisorEnv ?? this.deps.env;
      // A remote OAuth workload stores refreshed tokens, so its supervisor needs the store's
      // password: on stdin, never in its environment (docs/isolation.md, "Secrets").
      const password = supervisorEnv.TOOLHIVE_SECRETS_PASSWORD;
      if (config.remote_auth?.enabled && password) secrets.supervisorEnv = { TOOLHIVE_SECRETS_PASSWORD: password };
      const started = await launchSupervisor({
        name,
        entry: this.deps.supervisorEntry ?? defaultSupervisorEntry(),
        env: supervisorEnv,
        // The supervisor reports only after a stdio server's start-up window; the wait must cover it.
        timeoutMs: 60_000 + startupGraceMs(supervisorEnv),
        logFile: this.logFile(name),
        cwd: configCwd(config),
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
    let timeoutMs = options.timeoutMs;
    if (timeoutMs === undefined && !config.remote_auth?.enabled) timeoutMs = 60_000;
    if (timeoutMs === undefined) {
      const { loginTimeoutMs } = await import('../auth/remote/workload.js');
      // The supervisor's own flow timeout fires first and reports why; the margin covers discovery.
      timeoutMs = loginTimeoutMs(config, this.deps.env) + 30_000;
    }
    const deadline = this.clock.now() + timeoutMs;
    let shown = '';
    for (;;) {
      const info = this.toInfo(config, await this.reconciledStatus(name));
      if (info.status === 'running' || info.status === 'auth_retrying' || info.status === 'unhealthy') return info;
      const loginWaits = info.status === 'unauthenticated' && info.status_context.startsWith(LOGIN_REQUIRED_CONTEXT);
      if (loginWaits && info.status_context !== shown) {
        shown = info.status_context;
        options.onLoginRequired(shown);
      }
      if (info.status === 'unauthenticated' && !loginWaits) {
        throw new ThvError('auth_failed', `workload "${name}" could not authenticate to the remote server: ${info.status_context}`, {
          hint: `Run \`thv restart ${name}\` to log in again.`,
        });
      }
      if (!loginWaits && info.status !== 'starting') {
        throw new ThvError('workload_failed', `workload "${name}" is ${info.status}${info.status_context ? `: ${info.status_context}` : ''}`, {
          hint: `See \`thv logs ${name}\`.`,
        });
      }
      if (this.clock.now() > deadline) {
        throw new ThvError('auth_failed', `workload "${name}" did not finish its OAuth login within ${Math.round(timeoutMs / 1000)} s`, {
          hint: `It keeps waiting; \`thv status ${name}\` shows the login URL, or stop it with \`thv stop ${name}\`.`,
        });
      }
      await pause(100);
    }
  }

  /** `thv run --foreground`: the supervisor runs in this process. */
  async startInProcess(name: string, log: Logger): Promise<RunningSupervisor> {
    const config = await this.runConfigs.get(name);
    const secrets = await this.resolveSecrets(config);
    if (config.cwd) process.chdir(config.cwd);
    return startSupervisor(name, { paths: this.deps.paths, env: this.deps.env, log, secrets, clock: this.clock });
  }

  async stop(name: string): Promise<{ wasRunning: boolean }> {
    await this.runConfigs.get(name);
    const status = await this.reconciledStatus(name);
    if (!status || !LIVE_STATUSES.has(status.status) || !isProcessAlive(status.process_id)) {
      if (status && LIVE_STATUSES.has(status.status)) await this.statuses.set(name, 'stopped', '');
      return { wasRunning: false };
    }
    const pid = status.process_id;
    signal(pid, 'SIGTERM');
    const deadline = this.clock.now() + (this.deps.stopTimeoutMs ?? 15_000);
    while (isProcessAlive(pid) && this.clock.now() < deadline) await pause(25);
    if (isProcessAlive(pid)) {
      (this.deps.log ?? defaultLog()).warn({ workload: name, pid }, 'the supervisor did not stop in time; killing it');
      signal(pid, 'SIGKILL');
      while (isProcessAlive(pid)) await pause(25);
      await this.stopOrphanedServer(name);
      await this.statuses.set(name, 'stopped', 'the supervisor was killed after it did not stop in time', { onlyIf: (s) => s?.process_id === pid });
    }
    return { wasRunning: true };
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
    await this.runConfigs.update(name, (config) => ({ ...config, group }));
  }

  /** Stops the workload and deletes its run config, status file, log and stored credentials. */
  async remove(name: string): Promise<void> {
    const config = await this.runConfigs.read(name);
    if (!config && !(await this.statuses.read(name))) throw notFound(`workload "${name}" not found`, 'Run `thv list --all` to see workloads.');
    if (config) {
      await this.stop(name);
      await this.statuses.set(name, 'removing', '');
      await this.deleteStoredCredentials(config);
    }
    await this.stopOrphanedServer(name);
    await this.runConfigs.remove(name);
    await this.statuses.remove(name);
    await this.children.remove(name);
    await rm(`${this.statuses.file(name)}.lock`, { recursive: true, force: true });
    await rm(this.logFile(name), { force: true });
    await rm(`${this.logFile(name)}.1`, { force: true });
  }

  /** `thv list`: live and failed workloads; with `all`, stopped ones too. Dead supervisors are reported, never shown running. */
  async list(options: { all?: boolean; group?: string } = {}): Promise<WorkloadInfo[]> {
    const infos: WorkloadInfo[] = [];
    for (const name of await this.runConfigs.names()) {
      const config = await this.runConfigs.read(name).catch(() => undefined);
      if (!config) continue;
      if (options.group && config.group !== options.group) continue;
      const info = this.toInfo(config, await this.reconciledStatus(name));
      if (options.all || info.status !== 'stopped') infos.push(info);
    }
    return infos;
  }

  async status(name: string): Promise<WorkloadInfo> {
    const config = await this.runConfigs.get(name);
    return this.toInfo(config, await this.reconciledStatus(name));
  }

  /** The status file, corrected when it claims a live supervisor that is gone (SPEC §5: list reconciles). */
  async reconciledStatus(name: string): Promise<StatusFile | undefined> {
    const status = await this.statuses.read(name);
    if (!status || !LIVE_STATUSES.has(status.status)) {
      // A server can outlive a supervisor whose status already says it ended (written before a kill -9).
      await this.stopOrphanedServer(name);
      return status;
    }
    if (status.process_id === 0) {
      // Between `starting` written by the CLI and the supervisor's first write: trust it briefly.
      const age = this.clock.now() - Date.parse(status.updated_at);
      if (age < 60_000) return status;
    } else if (isSupervisorAlive(status.process_id)) {
      return status;
    }
    const next: WorkloadStatus = status.status === 'stopping' ? 'stopped' : 'error';
    let context = status.process_id === 0 ? 'the supervisor never started' : `supervisor process ${status.process_id} is not running`;
    const orphan = status.process_id === 0 ? undefined : await this.stopOrphanedServer(name);
    if (orphan) context += `; stopped its orphaned MCP server (process group ${orphan})`;
    const written = await this.statuses.set(name, next, context, {
      onlyIf: (cur) => cur?.process_id === status.process_id && cur.status === status.status,
    });
    return written ?? status;
  }

  /**
   * SPEC §5 promises no orphans: when the supervisor that recorded the server's process group is
   * gone (kill -9 runs no clean-up), the group is stopped here — SIGTERM, then SIGKILL after the
   * grace period — if it is still the one recorded. Returns the group id when one was stopped.
   */
  private async stopOrphanedServer(name: string): Promise<number | undefined> {
    const record = await this.children.read(name);
    if (!record || isSupervisorAlive(record.supervisor_pid)) return undefined;
    if (!isRecordedGroupRunning(record)) {
      await this.children.remove(name, record.supervisor_pid);
      return undefined;
    }
    const { pgid } = record;
    (this.deps.log ?? defaultLog()).warn({ workload: name, pgid, supervisor: record.supervisor_pid }, 'stopping the MCP server left behind by a dead supervisor');
    killGroup(pgid, 'SIGTERM');
    const deadline = this.clock.now() + (this.deps.orphanGraceMs ?? 5_000);
    while (groupAlive(pgid) && this.clock.now() < deadline) await pause(25);
    if (groupAlive(pgid)) killGroup(pgid, 'SIGKILL');
    await waitForGroupGone(pgid);
    await this.children.remove(name, record.supervisor_pid);
    return pgid;
  }

  private toInfo(config: RunConfig, status: StatusFile | undefined): WorkloadInfo {
    return {
      name: config.name,
      package: config.source.package ?? config.source.registry_name ?? config.remote_url ?? config.source.ref,
      url: workloadUrl(config),
      port: config.port ?? 0,
      tool_type: 'mcp',
      transport_type: config.transport,
      proxy_mode: config.proxy_mode,
      status: status?.status ?? 'stopped',
      status_context: status?.status_context ?? '',
      created_at: config.created_at,
      group: config.group,
      remote: Boolean(config.remote_url),
      process_id: status && LIVE_STATUSES.has(status.status) ? status.process_id : 0,
    };
  }

  /** Resolves `--secret` and credential references now; the values go to the supervisor only. */
  private async resolveSecrets(config: RunConfig): Promise<SupervisorSecrets> {
    const refs = credentialRefs(config);
    if (config.secrets.length === 0 && refs.length === 0) return { env: {}, values: {} };
    if (!this.deps.openSecrets) throw new ThvError('secrets_unavailable', 'this workload needs secrets, but no secrets store is available');
    const { userSecrets, scopedSecrets } = await import('../secrets/index.js');
    const provider = await this.deps.openSecrets();
    const user = userSecrets(provider);
    const env: Record<string, string> = {};
    for (const { name, target } of config.secrets) {
      const value = await user.get(name);
      if (value === undefined) {
        throw notFound(`secret "${name}" (for ${target}) is not in the secrets store`, `Set it with \`thv secret set ${name}\`.`);
      }
      env[target] = value;
    }
    const values: Record<string, string> = {};
    const scoped = scopedSecrets(provider, 'workloads');
    for (const ref of refs) {
      const value = await scoped.get(ref);
      if (value !== undefined) values[ref] = value;
    }
    for (const [header, ref] of Object.entries(config.header_refs ?? {})) {
      if (values[ref] === undefined) {
        throw notFound(`the stored value of header "${header}" of workload "${config.name}" is missing from the secrets store`, `Remove the workload with \`thv rm ${config.name}\` and run it again.`);
      }
    }
    return { env, values };
  }

  /** Credential values go to the secrets store (workloads scope); the run config keeps only the keys. */
  private async storeCredentials(credentials: StoredCredential[]): Promise<void> {
    if (credentials.length === 0) return;
    if (!this.deps.openSecrets) throw new ThvError('secrets_unavailable', 'no secrets store is available to keep the credential');
    const { scopedSecrets } = await import('../secrets/index.js');
    const store = scopedSecrets(await this.deps.openSecrets(), 'workloads');
    const stored: string[] = [];
    try {
      for (const { key, value } of credentials) {
        await store.set(key, value);
        stored.push(key);
      }
    } catch (err) {
      for (const key of stored) await store.delete(key).catch(() => undefined);
      throw err;
    }
  }

  private async deleteStoredCredentials(config: RunConfig): Promise<void> {
    const refs = credentialRefs(config);
    if (refs.length === 0 || !this.deps.openSecrets) return;
    try {
      const { scopedSecrets } = await import('../secrets/index.js');
      const store = scopedSecrets(await this.deps.openSecrets(), 'workloads');
      for (const ref of refs) await store.delete(ref);
    } catch (err) {
      (this.deps.log ?? defaultLog()).warn({ workload: config.name, err: (err as Error).message }, 'could not delete the stored credentials of the workload');
    }
  }
}

interface StoredCredential {
  key: string;
  value: string;
}

/** The run config's `remote_auth`; secret flag values are queued in `toStore` and referenced by key. */
function remoteAuthConfig(name: string, input: RemoteAuthInput, toStore: StoredCredential[]): RemoteAuthConfig {
  const auth: RemoteAuthConfig = { enabled: Boolean(input.enabled || input.issuer || input.clientId) };
  if (input.issuer) auth.issuer = input.issuer;
  if (input.clientId) auth.client_id = input.clientId;
  if (input.scopes?.length) auth.scopes = input.scopes;
  if (input.resource) auth.resource = input.resource;
  if (input.callbackPort !== undefined) auth.callback_port = input.callbackPort;
  if (input.skipBrowser) auth.skip_browser = true;
  if (input.timeout) auth.timeout = input.timeout;
  if (input.clientSecretFile) auth.client_secret_file = input.clientSecretFile;
  if (input.bearerTokenFile) auth.bearer_token_file = input.bearerTokenFile;
  if (input.clientSecret) {
    auth.client_secret_ref = `WORKLOAD_${name}_CLIENT_SECRET`;
    toStore.push({ key: auth.client_secret_ref, value: input.clientSecret });
  }
  if (input.bearerToken) {
    auth.bearer_token_ref = `WORKLOAD_${name}_BEARER_TOKEN`;
    toStore.push({ key: auth.bearer_token_ref, value: input.bearerToken });
  }
  return auth;
}

/** Every secrets-store key (workloads scope) a run config refers to. */
function credentialRefs(config: RunConfig): string[] {
  return [...remoteAuthRefs(config.remote_auth), ...Object.values(config.header_refs ?? {})];
}

function remoteAuthRefs(auth: RemoteAuthConfig | undefined): string[] {
  if (!auth) return [];
  return Object.entries(auth)
    .filter(([key, value]) => key.endsWith('_ref') && typeof value === 'string')
    .map(([, value]) => value as string);
}

function configCwd(config: RunConfig): string {
  return config.cwd ?? process.cwd();
}

export function parseEnvFlags(entries: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw badRequest(`"${entry}" is not an environment variable assignment`, 'Use -e NAME=value.');
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

export function parseSecretFlag(entry: string): { name: string; target: string } {
  const match = /^([^,]+),target=([A-Za-z_][A-Za-z0-9_]*)$/.exec(entry);
  if (!match) throw badRequest(`"${entry}" is not a secret reference`, 'Use --secret NAME,target=ENV_VAR.');
  return { name: match[1]!, target: match[2]! };
}

/** `Name: value` entries; names and values Node would refuse to send are refused here, not per request. */
export function parseHeaderFlags(entries: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of entries) {
    const match = /^([^\s:=]+)\s*[:=]\s*(.*)$/s.exec(entry);
    if (!match) throw badRequest('a --remote-header is not "Name: value"', 'Use --remote-header "Name: value".');
    const [, name, value] = match as unknown as [string, string, string];
    try {
      validateHeaderName(name);
    } catch {
      throw badRequest(`"${name.replace(/[^\x20-\x7e]/g, '?')}" is not a valid header name`, 'Header names are letters, digits and !#$%&\'*+.^_`|~-.');
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      // The value itself is not echoed: it may be a credential.
      throw badRequest(`the value of header "${name}" contains characters that cannot be sent (control characters or line breaks)`, 'Remove them from the --remote-header value.');
    }
    headers[name] = value;
  }
  return headers;
}

const SECRET_HEADER_NAMES = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** Whether a header's value is a credential, kept in the secrets store rather than the run config. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADER_NAMES.has(lower) || /token|secret|key|password|auth/.test(lower);
}

function splitSecretHeaders(headers: Record<string, string>): { plain: Record<string, string>; secret: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) (isSecretHeader(name) ? secret : plain)[name] = value;
  return { plain, secret };
}

function deleteHeader(headers: Record<string, string>, name: string): void {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
}

function headerSecretKey(workload: string, header: string): string {
  return `WORKLOAD_${workload}_HEADER_${header.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function isProcessAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie (exited, not yet reaped by an init that may never reap it) is not alive.
  return procStat(pid)?.state !== 'Z';
}

function procStat(pid: number): { state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) };
  } catch {
    return undefined;
  }
}

/** Alive and (where /proc tells) still a thv process, so a recycled pid is not mistaken for the supervisor. */
function isSupervisorAlive(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return /supervisor|thv/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
