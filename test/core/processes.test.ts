import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { isSupervisorAlive } from '../../src/core/processes.js';

// `thv list` believes a workload is running only while its supervisor is (docs/workloads.md): a pid
// that died, was recycled by another program, or is a zombie nobody reaped must not count.

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(child);
  return child;
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

describe('isSupervisorAlive', () => {
  it('is true for a running process whose command line is a supervisor', async () => {
    const child = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'thv-supervisor']);
    await once(child, 'spawn');
    expect(isSupervisorAlive(child.pid!)).toBe(true);
  });

  it('is false for a live process that is something else (a recycled pid)', async () => {
    const child = start('sleep', ['30']);
    await once(child, 'spawn');
    expect(isSupervisorAlive(child.pid!)).toBe(false);
  });

  it('is false once the process is gone', async () => {
    const child = start(process.execPath, ['-e', '0', 'thv-supervisor']);
    await once(child, 'exit');
    expect(isSupervisorAlive(child.pid!)).toBe(false);
  });

  it('is false for a supervisor that exited and was never reaped (a zombie)', async () => {
    // The shell starts the "supervisor" and becomes `sleep`, which never waits for it.
    const parent = start('sh', ['-c', `'${process.execPath}' -e 0 thv-supervisor & echo $!; exec sleep 30`]);
    const [line] = (await once(parent.stdout!.setEncoding('utf8'), 'data')) as [string];
    const pid = Number(line.trim());
    const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
    await waitFor(() => state() === 'Z');
    expect(isSupervisorAlive(pid)).toBe(false);
  });
});
