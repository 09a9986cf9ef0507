import { afterEach, describe, expect, it } from 'vitest';
import { readdir, rm } from 'node:fs/promises';
import type { Paths } from '../../src/core/paths.js';
import { createLogger } from '../../src/core/log.js';
import { isThvError } from '../../src/core/errors.js';
import { StatusStore } from '../../src/workloads/status-store.js';
import { startSupervisor } from '../../src/workloads/supervisor.js';
import { writeTestWorkload } from './in-process.js';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function workload(script: string): Promise<{ paths: Paths; name: string }> {
  const { root, paths } = await writeTestWorkload({ name: 'bad', command: process.execPath, args: ['-e', script] });
  roots.push(root);
  return { paths, name: 'bad' };
}

describe('a supervisor whose stdio server exits during start-up', () => {
  it('rejects with workload_failed, records `error` with the exit, and leaves no child record', async () => {
    const { paths, name } = await workload('process.exit(3)');
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (line) => void lines.push(line) });
    const err = await startSupervisor(name, { paths, env: {}, log, secrets: { env: {}, values: {} }, startupGraceMs: 30_000 }).catch((e: unknown) => e);
    expect(isThvError(err, 'workload_failed')).toBe(true);
    expect((err as Error).message).toMatch(/^the MCP server exited with code 3 during start-up/);
    expect((err as { hint?: string }).hint).toContain('thv logs bad');
    const status = await new StatusStore(paths).read(name);
    expect(status).toMatchObject({ status: 'error', process_id: process.pid });
    expect(status!.status_context).toMatch(/^the MCP server exited with code 3 during start-up/);
    expect(await readdir(paths.statusesDir)).not.toContain('bad.child');
    expect(lines.join('')).not.toContain('; restarting');
  });

  it('with a window of 0, reports ready at once (the crash is left to the restart loop)', async () => {
    const { paths, name } = await workload('process.exit(3)');
    const log = createLogger({ level: 'silent' });
    const supervisor = await startSupervisor(name, {
      paths,
      env: {},
      log,
      secrets: { env: {}, values: {} },
      startupGraceMs: 0,
      policy: { initialDelayMs: 60_000, maxDelayMs: 60_000, maxConsecutiveCrashes: 10, stableAfterMs: 60_000 },
    });
    expect(['running', 'unhealthy']).toContain((await new StatusStore(paths).read(name))?.status);
    await supervisor.stop();
  });
});
