import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { THV_BIN, makeTempHome } from '../test/fixtures/cli.js';
import { compare, report, timeProcess } from './harness.js';

const WORKLOADS = 50;

/**
 * docs/architecture.md#start-up: `thv list` with 50 running workloads vs `node -e 0`. The workloads are
 * files as their supervisors write them (run config + status file), all naming one live stand-in
 * process whose command line marks it as a supervisor: `thv list` does the same reads and liveness
 * checks as with 50 real supervisors, without 50 processes on a shared machine.
 */
export async function benchList(runs = 15): Promise<void> {
  const home = await makeTempHome();
  const standIn = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', 'thv-bench-supervisor'], { stdio: 'ignore' });
  try {
    const runConfigs = join(home.root, 'state/toolhive/runconfigs');
    const statuses = join(home.root, 'data/toolhive/statuses');
    await mkdir(runConfigs, { recursive: true });
    await mkdir(statuses, { recursive: true });
    const now = new Date().toISOString();
    for (let i = 0; i < WORKLOADS; i++) {
      const name = `server-${String(i).padStart(2, '0')}`;
      const config = {
        schema_version: 1, name, group: 'default', source: { kind: 'npx', ref: `npx://@example/${name}`, package: `@example/${name}` },
        command: 'npx', args: ['-y', `@example/${name}`], transport: 'stdio', proxy_mode: 'streamable-http', host: '127.0.0.1',
        port: 20_000 + i, port_fixed: false, env: {}, secrets: [], headers: {}, created_at: now, runtime: 'none',
      };
      const status = { status: 'running', status_context: '', created_at: now, updated_at: now, process_id: standIn.pid };
      await writeFile(join(runConfigs, `${name}.json`), JSON.stringify(config), { mode: 0o600 });
      await writeFile(join(statuses, `${name}.json`), JSON.stringify(status), { mode: 0o600 });
    }
    const thv = (...args: string[]) => timeProcess(process.execPath, [THV_BIN, ...args], home.env);
    await thv('list');
    const result = await compare(runs, () => timeProcess(process.execPath, ['-e', '0'], home.env), () => thv('list'));
    report(`list, ${WORKLOADS} running workloads`, {
      'node -e 0 ms': result.reference,
      'thv ms': result.subject,
      ratio: `${result.ratio.toFixed(2)}x`,
      goal: '<2x',
    });
  } finally {
    standIn.kill();
    await home.cleanup();
  }
}
