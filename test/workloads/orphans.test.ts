import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolvePaths, type Paths } from '../../src/core/paths.js';
import { WorkloadManager } from '../../src/workloads/manager.js';
import { childRecord, isRecordedGroupRunning, otherEraRecordName } from '../../src/workloads/child-record.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { isAlive, waitFor } from './helpers.js';

let home: TempHome;
let paths: Paths;
let manager: WorkloadManager;
let sleeper: ChildProcess;
let deadPid: number;

beforeEach(async () => {
  home = await makeTempHome();
  paths = resolvePaths(home.env);
  manager = new WorkloadManager({ paths, env: home.env, orphanGraceMs: 2_000 });
  // Stands in for an MCP server: the leader of its own process group, like the supervisor spawns it.
  sleeper = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
  await once(sleeper, 'spawn');
  // A pid that belonged to a supervisor which has exited.
  const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  deadPid = gone.pid!;
  await once(gone, 'exit');
  await manager.create({ command: ['node', '-e', '0'], name: 'w' });
});

afterEach(async () => {
  if (isAlive(sleeper.pid!)) process.kill(-sleeper.pid!, 'SIGKILL');
  await home.cleanup();
});

describe('the server of a dead supervisor', () => {
  it('is stopped by reconciliation when its recorded start time matches', async () => {
    const record = childRecord(deadPid, sleeper.pid!);
    expect(record.start_time).toMatch(/^\d+$/);
    expect(isRecordedGroupRunning(record)).toBe(true);
    await manager.children.write('w', record);
    await manager.statuses.set('w', 'running', '', { processId: deadPid });

    const info = await manager.status('w');
    expect(info.status).toBe('error');
    expect(info.status_context).toBe(`supervisor process ${deadPid} is not running; stopped its orphaned MCP server (process group ${sleeper.pid})`);
    await waitFor('the server to be gone', () => !isAlive(sleeper.pid!));
    expect(await manager.children.read('w')).toBeUndefined();
  });

  it('is stopped together with the second copy a dual-era bridge started for the other era', async () => {
    const second = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    await once(second, 'spawn');
    try {
      await manager.children.write('w', childRecord(deadPid, sleeper.pid!));
      await manager.children.write(otherEraRecordName('w'), childRecord(deadPid, second.pid!));
      await manager.statuses.set('w', 'running', '', { processId: deadPid });

      expect((await manager.status('w')).status).toBe('error');
      await waitFor('both servers to be gone', () => !isAlive(sleeper.pid!) && !isAlive(second.pid!));
      expect(await manager.children.read(otherEraRecordName('w'))).toBeUndefined();
    } finally {
      if (isAlive(second.pid!)) process.kill(-second.pid!, 'SIGKILL');
    }
  });

  it('is left alone when the pid now names another process (different start time)', async () => {
    const record = { ...childRecord(deadPid, sleeper.pid!), start_time: '1' };
    expect(isRecordedGroupRunning(record)).toBe(false);
    await manager.children.write('w', record);
    await manager.statuses.set('w', 'running', '', { processId: deadPid });

    const info = await manager.status('w');
    expect(info.status_context).toBe(`supervisor process ${deadPid} is not running`);
    expect(isAlive(sleeper.pid!)).toBe(true);
  });
});
