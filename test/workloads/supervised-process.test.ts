import { afterEach, describe, expect, it } from 'vitest';
import { EarlyExitError, SupervisedProcess, type ExitInfo } from '../../src/workloads/supervised-process.js';
import { isThvError } from '../../src/core/errors.js';
import { isAlive, waitFor } from './helpers.js';
import { NONE_PROFILE } from '../../src/isolation/profile.js';

const started: SupervisedProcess[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) await p.stop();
});

function supervise(args: string[], extra: Partial<ConstructorParameters<typeof SupervisedProcess>[0]> & { command?: string } = {}) {
  const events = { starts: [] as Array<number | undefined>, exits: [] as ExitInfo[], gaveUp: undefined as ExitInfo | undefined, stdout: '' };
  const { command = process.execPath, ...options } = extra;
  const proc = new SupervisedProcess({
    spec: { workload: 'test', command, args, env: { PATH: process.env.PATH ?? '' }, transport: 'stdio', profile: NONE_PROFILE },
    onStdout: (c) => (events.stdout += c),
    onStart: (pid) => void events.starts.push(pid),
    onExit: (info) => void events.exits.push(info),
    onGiveUp: (info) => (events.gaveUp = info),
    ...options,
  });
  started.push(proc);
  return { proc, events };
}

describe('a supervised process', () => {
  it('stop ends the whole process group, grandchildren included', async () => {
    const script = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log(g.pid);
      setInterval(() => {}, 1000);`;
    const { proc, events } = supervise(['-e', script]);
    const pid = (await proc.start())!;
    const grandchild = await waitFor('the grandchild pid', () => Number(events.stdout.trim()) || undefined);
    expect(isAlive(pid)).toBe(true);
    expect(isAlive(grandchild)).toBe(true);
    await proc.stop();
    await waitFor('the group to be gone', () => !isAlive(pid) && !isAlive(grandchild));
  });

  it('SIGKILLs a child that ignores SIGTERM after the grace period', async () => {
    const { proc, events } = supervise(['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"], { stopGraceMs: 200 });
    const pid = (await proc.start())!;
    await waitFor('the child to be ready', () => events.stdout.includes('ready'));
    await proc.stop();
    expect(isAlive(pid)).toBe(false);
    expect(events.exits).toEqual([]);
  });

  it('restarts a crashing child with doubling delays, then gives up', async () => {
    const { proc, events } = supervise(['-e', 'process.exit(7)'], {
      policy: { initialDelayMs: 5, maxDelayMs: 20, maxConsecutiveCrashes: 4, stableAfterMs: 60_000 },
    });
    await proc.start();
    await waitFor('giving up', () => events.gaveUp);
    expect(events.exits.map((e) => e.restartInMs)).toEqual([5, 10, 20, 20]);
    expect(events.exits.every((e) => e.reason === 'exited with code 7')).toBe(true);
    expect(events.starts).toHaveLength(5);
    expect(events.gaveUp?.consecutiveCrashes).toBe(4);
  });

  it('startWithin: a child that exits during the window fails the start and is not restarted', async () => {
    const { proc, events } = supervise(['-e', 'process.exit(3)'], {
      policy: { initialDelayMs: 1, maxDelayMs: 1, maxConsecutiveCrashes: 4, stableAfterMs: 60_000 },
    });
    const err = await proc.startWithin(30_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EarlyExitError);
    expect((err as EarlyExitError).reason).toBe('exited with code 3');
    expect((err as Error).message).toBe('the MCP server exited with code 3 during start-up');
    // The restart loop reports each crash as it happens; there was none.
    expect(events.exits).toEqual([]);
    expect(events.starts).toHaveLength(1);
  });

  it('startWithin: a child that stays up through the window is ready, and a later crash is restarted', async () => {
    const { proc, events } = supervise(['-e', "process.stdin.on('data', () => process.exit(5)); setInterval(() => {}, 1000)"], {
      policy: { initialDelayMs: 1, maxDelayMs: 1, maxConsecutiveCrashes: 4, stableAfterMs: 60_000 },
    });
    const pid = (await proc.startWithin(200))!;
    expect(isAlive(pid)).toBe(true);
    proc.write('crash');
    await waitFor('the restart', () => events.starts.length === 2);
    expect(events.exits.map((e) => e.reason)).toEqual(['exited with code 5']);
  });

  it('startWithin(0) is ready at once, like start', async () => {
    const { proc, events } = supervise(['-e', 'process.exit(3)'], {
      policy: { initialDelayMs: 1, maxDelayMs: 1, maxConsecutiveCrashes: 1, stableAfterMs: 60_000 },
    });
    expect(await proc.startWithin(0)).toBeGreaterThan(0);
    await waitFor('giving up', () => events.gaveUp);
    expect(events.exits.map((e) => e.reason)).toEqual(['exited with code 3']);
  });

  it('a program that does not exist is a runtime_unavailable error', async () => {
    const { proc } = supervise([], { command: 'thv-no-such-program' });
    const err = await proc.start().catch((e: unknown) => e);
    expect(isThvError(err, 'runtime_unavailable')).toBe(true);
    expect((err as Error).message).toContain('thv-no-such-program');
  });
});
