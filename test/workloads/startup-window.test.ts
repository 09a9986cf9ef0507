import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastOutputLines, markOutput, startupGraceMs } from '../../src/workloads/startup-window.js';

const dirs: string[] = [];
const fds: number[] = [];
afterEach(async () => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempFile(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'thv-startup-'));
  dirs.push(dir);
  const file = join(dir, 'w.log');
  await writeFile(file, content);
  return file;
}

describe('the start-up window', () => {
  it('is 2 s by default, TOOLHIVE_STARTUP_GRACE sets it, 0 disables it, an invalid value is logged and ignored', () => {
    const lines: string[] = [];
    const log = (name: string, value: string) => void lines.push(`${name}=${value}`);
    expect(startupGraceMs({}, log)).toBe(2_000);
    expect(startupGraceMs({ TOOLHIVE_STARTUP_GRACE: '' }, log)).toBe(2_000);
    expect(startupGraceMs({ TOOLHIVE_STARTUP_GRACE: '250ms' }, log)).toBe(250);
    expect(startupGraceMs({ TOOLHIVE_STARTUP_GRACE: '1m' }, log)).toBe(60_000);
    expect(startupGraceMs({ TOOLHIVE_STARTUP_GRACE: '0' }, log)).toBe(0);
    expect(startupGraceMs({ TOOLHIVE_STARTUP_GRACE: '0s' }, log)).toBe(0);
    expect(lines).toEqual([]);
    expect(startupGraceMs({ TOOLHIVE_STARTUP_GRACE: 'soon' }, log)).toBe(2_000);
    expect(startupGraceMs({ TOOLHIVE_STARTUP_GRACE: '-1s' }, log)).toBe(2_000);
        expect(lines).toEqual(['TOOLHIVE_STARTUP_GRACE=soon', 'TOOLHIVE_STARTUP_GRACE=-1s']);
  });
});

describe('the server output of a failed start', () => {
  it('keeps the last three lines of the server, without supervisor lines, control characters or environment values', () => {
    const text = [
      'an early line',
      'second',
      '2026-11-22T09:15:41.503Z info: MCP server process started workload=bad restarts=0',
      '\x1b[31mthird\x1b[0m',
      '',
      'token sekrit-value-123 was rejected\r',
      '2026-11-22T09:15:41.566Z error: the MCP server exited with code 3 during start-up',
    ].join('\n');
    expect(lastOutputLines(text, ['sekrit-value-123', 'on'])).toBe('second | third | token *** was rejected');
  });

  it('is cut to about 300 characters from the end, where the reason is', () => {
    const out = lastOutputLines(`${'x'.repeat(1000)}the reason\n`, []);
    expect(out).toHaveLength(300);
    expect(out.startsWith('…')).toBe(true);
    expect(out.endsWith('the reason')).toBe(true);
  });

  it('reads back only what was appended to the log after the mark, when stderr is that log', async () => {
    const file = await tempFile('an older run\n');
    const fd = openSync(file, 'a'); // write-only, as the launcher opens it
    fds.push(fd);
    const read = markOutput(file, fd);
    writeSync(fd, 'boom: missing API key\n');
    expect(read()).toBe('boom: missing API key\n');
  });

  it('reads nothing when stderr is not that log (a terminal in the foreground)', async () => {
    const file = await tempFile('');
    const other = await tempFile('');
    const fd = openSync(other, 'a');
    fds.push(fd);
    const read = markOutput(file, fd);
    await writeFile(file, 'not the server\n');
    expect(read()).toBe('');
  });
});
