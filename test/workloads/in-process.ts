import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePaths, type Paths } from '../../src/core/paths.js';
import { createLogger } from '../../src/core/log.js';
import { RunConfigStore } from '../../src/workloads/run-config-store.js';
import { startSupervisor, type RunningSupervisor } from '../../src/workloads/supervisor.js';
import type { RunConfig } from '../../src/workloads/types.js';
import type { RestartPolicy } from '../../src/workloads/supervised-process.js';
import { STDIO_FIXTURE } from './helpers.js';
import { tempHomeEnv } from '../../scripts/temp-home.mjs';

export interface InProcessWorkload {
  supervisor: RunningSupervisor;
  paths: Paths;
  url: string;
  logs: string[];
  close(): Promise<void>;
}

/**
 * A temporary home holding the run config of one workload: the stdio fixture unless `config` names
 * a remote or its own command and args. The caller removes `root`.
 */
export async function writeTestWorkload(config: Partial<RunConfig> & Pick<RunConfig, 'name'>): Promise<{ root: string; paths: Paths }> {
  const root = await mkdtemp(join(tmpdir(), 'thv-sup-'));
  const paths = resolvePaths({ ...tempHomeEnv(root) });
  const full: RunConfig = {
    schema_version: 1,
    group: 'default',
    source: { kind: 'command', ref: 'test' },
    args: [],
    transport: 'stdio',
    proxy_mode: 'streamable-http',
    host: '127.0.0.1',
    port_fixed: false,
    env: {},
    secrets: [],
    headers: {},
    created_at: new Date().toISOString(),
    runtime: 'none',
    ...(config.remote_url ? {} : { command: process.execPath, args: [STDIO_FIXTURE] }),
    ...config,
  };
  await new RunConfigStore(paths).write(full);
  return { root, paths };
}

/** A supervisor running in the test process against a temporary home: the real bridge or proxy, real child. */
export async function startInProcess(
  config: Partial<RunConfig> & Pick<RunConfig, 'name'>,
  options: { policy?: RestartPolicy; env?: NodeJS.ProcessEnv; startupGraceMs?: number } = {},
): Promise<InProcessWorkload> {
  const { root, paths } = await writeTestWorkload(config);
  const name = config.name;
  const logs: string[] = [];
  const log = createLogger({ level: 'info', write: (line) => void logs.push(line) });
  const supervisor = await startSupervisor(name, {
    paths,
    env: options.env ?? process.env,
    log,
    secrets: { env: {}, values: {} },
    ...(options.policy ? { policy: options.policy } : {}),
    stopGraceMs: 2_000,
    // Tests of the start-up window pass their own; the others need no wait before they begin.
    startupGraceMs: options.startupGraceMs ?? 0,
  });
  return {
    supervisor,
    paths,
    url: supervisor.url,
    logs,
    close: async () => {
      await supervisor.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
