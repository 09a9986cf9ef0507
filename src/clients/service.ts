import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import type { Paths } from '../core/paths.js';
import { badRequest } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';
import { ConfigStore } from '../config/store.js';
import type { GroupStore } from '../workloads/groups.js';
import { DEFAULT_GROUP } from '../workloads/groups.js';
import type { WorkloadInfo, WorkloadObserver } from '../workloads/types.js';
import { CLIENTS, CLIENT_IDS, findClient, type ClientDefinition, type ClientEnvironment, type ClientPlatform, type ClientWorkload } from './catalog.js';
import { ClientConfigFiles, type EntryOutcome } from './config-file.js';
import { envText } from '../core/env.js';

/** `GET /discovery/clients` and `thv client status`, in ToolHive's field names. */
export interface ClientStatus {
  client_type: string;
  installed: boolean;
  registered: boolean;
  supports_skills: boolean;
  supports_plugins: boolean;
}

/** `GET /clients` and `thv client list-registered`. */
export interface RegisteredClient {
  name: string;
  groups: string[];
}

/** What one register/remove/start/stop did to one file. */
export interface FileChange {
  client: string;
  file: string;
  workload: string;
  outcome: EntryOutcome;
}

export interface ClientChangeReport {
  changes: FileChange[];
  /** Files thv could not edit (broken, busy): reported, left as they were. */
  problems: Array<{ client: string; file?: string; message: string; hint?: string }>;
}

export interface ClientServiceDeps {
  paths: Paths;
  /** Groups and running workloads; the workloads layer's own stores. */
  groups: Pick<GroupStore, 'list' | 'require' | 'updateRegisteredClients'>;
  listWorkloads(options: { all: boolean; group?: string }): Promise<WorkloadInfo[]>;
  /** The environment the clients see (HOME, APPDATA, XDG_CONFIG_HOME, CODEX_HOME, …). */
  env: NodeJS.ProcessEnv;
  /** Where the client files are; defaults to this machine's platform with `env`. */
  environment?: ClientEnvironment;
  /** How a client starts thv (Claude Desktop's stdio bridge); defaults to this node and this package. */
  thvCommand?: string[];
}

export function machineEnvironment(env: NodeJS.ProcessEnv): ClientEnvironment {
  const platform: ClientPlatform = process.platform === 'win32' || process.platform === 'darwin' ? process.platform : 'linux';
  const home = (platform === 'win32' ? envText(env, 'USERPROFILE') : envText(env, 'HOME')) ?? envText(env, 'HOME') ?? homedir();
  return { platform, home, env: { ...env } };
}

/**
 * Registers thv's workloads with the user's AI clients (docs/clients.md). Registration is kept in
 * config.yaml (`clients.registered_clients`, as ToolHive) and per group (the group's
 * `registered_clients`); a workload's entry goes to the clients registered for its group.
 */
export class ClientService implements WorkloadObserver {
  private readonly files: ClientConfigFiles;
  private readonly config: ConfigStore;
  private readonly environment: ClientEnvironment;
  private readonly thvCommand: string[];

  constructor(private readonly deps: ClientServiceDeps) {
    this.files = new ClientConfigFiles(deps.paths.stateDir);
    this.config = new ConfigStore(deps.paths.configFile);
    this.environment = deps.environment ?? machineEnvironment(deps.env);
    this.thvCommand = deps.thvCommand ?? [process.execPath, join(packageRoot(), 'bin', 'thv.js')];
  }

  /** Every known client: installed here? registered with thv? */
  async status(): Promise<Array<ClientStatus & { display_name: string; config_files: string[] }>> {
    const registered = new Set((await this.listRegistered()).map((c) => c.name));
    return Promise.all(
      CLIENTS.map(async (client) => ({
        client_type: client.id,
        installed: await this.isInstalled(client),
        registered: registered.has(client.id),
        supports_skills: false,
        supports_plugins: false,
        display_name: client.displayName,
        config_files: await client.files(this.environment),
      })),
    );
  }

  async listRegistered(): Promise<RegisteredClient[]> {
    const [config, groups] = await Promise.all([this.config.load(), this.deps.groups.list()]);
    const byClient = new Map<string, string[]>();
    for (const group of groups) {
      for (const client of group.registered_clients) byClient.set(client, [...(byClient.get(client) ?? []), group.name]);
    }
    for (const client of config.clients?.registered_clients ?? []) if (!byClient.has(client)) byClient.set(client, []);
    return [...byClient].map(([name, g]) => ({ name, groups: g.sort() })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Registers clients for groups (default: the default group) and writes the groups' running workloads. */
  async register(ids: string[], groups: string[] = []): Promise<ClientChangeReport> {
    const clients = this.resolve(ids);
    const targetGroups = groups.length ? unique(groups) : [DEFAULT_GROUP];
    for (const group of targetGroups) await this.deps.groups.require(group);
    for (const group of targetGroups) {
      await this.deps.groups.updateRegisteredClients(group, (list) => unique([...list, ...clients.map((c) => c.id)]));
    }
    await this.config.update((draft) => {
      const list = draft.clients?.registered_clients ?? [];
      draft.clients = { ...draft.clients, registered_clients: unique([...list, ...clients.map((c) => c.id)]) };
    });
    const report = emptyReport();
    for (const group of targetGroups) {
      const running = (await this.deps.listWorkloads({ all: false, group })).filter(isReachable);
      for (const client of clients) for (const workload of running) await this.add(client, workload, report);
    }
    return report;
  }

  /**
   * Unregisters clients from some groups (their workloads' entries go), or from all of them (every
   * entry thv wrote for the client goes). Entries thv did not write stay.
   */
  async remove(ids: string[], groups: string[] = []): Promise<ClientChangeReport> {
    const clients = this.resolve(ids);
    const report = emptyReport();
    const names = new Set(clients.map((c) => c.id));
    if (groups.length) {
      for (const group of unique(groups)) await this.deps.groups.require(group);
      for (const group of unique(groups)) {
        await this.deps.groups.updateRegisteredClients(group, (list) => list.filter((c) => !names.has(c)));
        const workloads = await this.deps.listWorkloads({ all: true, group });
        for (const client of clients) for (const workload of workloads) await this.drop(client, workload.name, report);
      }
      const stillRegistered = new Set((await this.deps.groups.list()).flatMap((g) => g.registered_clients));
      await this.unrecord(clients.filter((c) => !stillRegistered.has(c.id)).map((c) => c.id));
      return report;
    }
    for (const group of await this.deps.groups.list()) {
      if (group.registered_clients.some((c) => names.has(c))) {
        await this.deps.groups.updateRegisteredClients(group.name, (list) => list.filter((c) => !names.has(c)));
      }
    }
    await this.unrecord([...names]);
    for (const client of clients) {
      for (const file of await client.files(this.environment)) {
        for (const workload of await this.files.managedNames(client, file)) await this.dropFromFile(client, file, workload, report);
      }
    }
    return report;
  }

  /** WorkloadObserver: a started workload's entry goes to the clients registered for its group. */
  async started(workload: WorkloadInfo): Promise<void> {
    await this.workloadStarted(workload);
  }

  async stopped(workload: Pick<WorkloadInfo, 'name' | 'group'>): Promise<void> {
    await this.workloadStopped(workload);
  }

  async workloadStarted(workload: WorkloadInfo): Promise<ClientChangeReport> {
    const report = emptyReport();
    if (!isReachable(workload)) return report;
    for (const client of await this.registeredFor(workload.group)) await this.add(client, workload, report);
    return report;
  }

  async workloadStopped(workload: Pick<WorkloadInfo, 'name' | 'group'>): Promise<ClientChangeReport> {
    const report = emptyReport();
    for (const client of await this.registeredFor(workload.group)) await this.drop(client, workload.name, report);
    return report;
  }

  private async registeredFor(group: string): Promise<ClientDefinition[]> {
    const found = (await this.deps.groups.list()).find((g) => g.name === group);
    return (found?.registered_clients ?? []).map((id) => findClient(id)).filter((c): c is ClientDefinition => c !== undefined);
  }

  private async add(client: ClientDefinition, workload: WorkloadInfo, report: ClientChangeReport): Promise<void> {
    const entry = client.entry(toClientWorkload(workload), { thvCommand: this.thvCommand });
    const installed = await this.isInstalled(client);
    for (const file of await client.files(this.environment)) {
      if (!entry) {
        report.changes.push({ client: client.id, file, workload: workload.name, outcome: 'unsupported' });
        continue;
      }
      try {
        const outcome = await this.files.upsert(client, file, workload.name, entry, { create: installed });
        report.changes.push({ client: client.id, file, workload: workload.name, outcome });
      } catch (err) {
        report.problems.push(problem(client, file, err));
      }
    }
  }

  private async drop(client: ClientDefinition, workload: string, report: ClientChangeReport): Promise<void> {
    for (const file of await client.files(this.environment)) await this.dropFromFile(client, file, workload, report);
  }

  private async dropFromFile(client: ClientDefinition, file: string, workload: string, report: ClientChangeReport): Promise<void> {
    try {
      const outcome = await this.files.remove(client, file, workload);
      report.changes.push({ client: client.id, file, workload, outcome });
    } catch (err) {
      report.problems.push(problem(client, file, err));
    }
  }

  private async unrecord(ids: string[]): Promise<void> {
    const drop = new Set(ids);
    const config = await this.config.load();
    if (!(config.clients?.registered_clients ?? []).some((c) => drop.has(c))) return;
    await this.config.update((draft) => {
      draft.clients = { ...draft.clients, registered_clients: (draft.clients?.registered_clients ?? []).filter((c) => !drop.has(c)) };
    });
  }

  async isInstalled(client: ClientDefinition): Promise<boolean> {
    for (const path of client.detect(this.environment)) {
      if (await access(path).then(() => true, () => false)) return true;
    }
    return false;
  }

  private resolve(ids: string[]): ClientDefinition[] {
    if (ids.length === 0) throw badRequest('no client given', `Valid clients: ${CLIENT_IDS.join(', ')}.`);
    return unique(ids).map((id) => {
      const client = findClient(id);
      if (!client) throw badRequest(`unsupported client type "${id}"`, `Valid clients: ${CLIENT_IDS.join(', ')}.`);
      return client;
    });
  }
}

/** A workload with a live endpoint (its supervisor serves it). */
function isReachable(workload: WorkloadInfo): boolean {
  return ['running', 'starting', 'unhealthy', 'unauthenticated', 'auth_retrying'].includes(workload.status) && workload.port > 0;
}

/** What a client needs: the printed URL, its transport, and the streamable endpoint a stdio workload serves too. */
export function toClientWorkload(workload: WorkloadInfo): ClientWorkload {
  const transport = workload.remote ? (workload.transport_type === 'sse' ? 'sse' : 'streamable-http') : workload.proxy_mode;
  const result: ClientWorkload = { name: workload.name, url: workload.url, transport };
  if (!workload.remote && transport === 'sse') {
    const url = new URL(workload.url);
    url.pathname = '/mcp';
    url.hash = '';
    result.streamableUrl = url.toString();
  }
  return result;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function emptyReport(): ClientChangeReport {
  return { changes: [], problems: [] };
}

function problem(client: ClientDefinition, file: string, err: unknown): ClientChangeReport['problems'][number] {
  const hint = (err as { hint?: string }).hint;
  return { client: client.id, file, message: err instanceof Error ? err.message : String(err), ...(hint ? { hint } : {}) };
}
