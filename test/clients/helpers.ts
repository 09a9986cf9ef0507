import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { resolvePaths, type Paths } from '../../src/core/paths.js';
import { GroupStore } from '../../src/workloads/groups.js';
import type { WorkloadInfo } from '../../src/workloads/types.js';
import { ClientService } from '../../src/clients/service.js';
import type { ClientEnvironment, ClientPlatform } from '../../src/clients/catalog.js';

export const THV_COMMAND = ['/usr/local/bin/node', '/opt/thv/bin/thv.js'];

/** A workload as `thv list` reports it; only the fields the clients layer reads matter. */
export function workload(name: string, port: number, options: Partial<WorkloadInfo> = {}): WorkloadInfo {
  const proxyMode = options.proxy_mode ?? 'streamable-http';
  return {
    name,
    package: name,
    url: proxyMode === 'sse' ? `http://127.0.0.1:${port}/sse#${name}` : `http://127.0.0.1:${port}/mcp`,
    port,
    tool_type: 'mcp',
    transport_type: 'stdio',
    proxy_mode: proxyMode,
    status: 'running',
    status_context: '',
    created_at: '2026-01-01T00:00:00.000Z',
    group: 'default',
    remote: false,
    process_id: 1,
    ...options,
  };
}

export interface ClientsFixture {
  root: string;
  home: string;
  paths: Paths;
  environment: ClientEnvironment;
  groups: GroupStore;
  workloads: WorkloadInfo[];
  service: ClientService;
  cleanup(): Promise<void>;
}

/**
 * A temp home laid out like `platform`'s (posix separators, so the Windows layout runs here too),
 * thv's own state beside it, and a client service over a settable list of running workloads.
 */
export async function clientsFixture(platform: ClientPlatform = 'linux', env: Record<string, string> = {}): Promise<ClientsFixture> {
  const root = await mkdtemp(join(tmpdir(), 'thv-clients-'));
  const home = join(root, 'home');
  const paths = resolvePaths({ HOME: join(root, 'thv') });
  const environment: ClientEnvironment = { platform, home, env, path: posix };
  const groups = new GroupStore(paths);
  const fixture: ClientsFixture = {
    root,
    home,
    paths,
    environment,
    groups,
    workloads: [],
    service: undefined as unknown as ClientService,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  fixture.service = new ClientService({
    paths,
    env: {},
    environment,
    groups,
    thvCommand: THV_COMMAND,
    listWorkloads: async (o) => fixture.workloads.filter((w) => (o.group === undefined || w.group === o.group) && (o.all || w.status !== 'stopped')),
  });
  return fixture;
}
