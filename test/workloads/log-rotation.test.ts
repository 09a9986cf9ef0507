import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, symlink, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CappedLogWriter, openLogForAppend, rotateLogIfLarge } from '../../src/workloads/log-rotation.js';
import { printLog } from '../../src/workloads/logs.js';
import { waitFor } from './helpers.js';

let dir: string;
let file: string;
let writer: FileHandle;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'thv-logrot-'));
  file = join(dir, 'w.log');
  // Like the supervisor's stdout/stderr and the server's stderr: one append-mode descriptor nobody reopens.
  writer = await open(file, 'a', 0o600);
});
afterEach(async () => {
  await writer.close();
  await rm(dir, { recursive: true, force: true });
});

const line = (i: number) => `line ${String(i).padStart(4, '0')} ${'x'.repeat(40)}\n`;

describe('a workload log past its cap', () => {
  it('moves to <log>.1 while the writer keeps its descriptor, and later writes start the log afresh', async () => {
    for (let i = 0; i < 10; i++) await writer.write(line(i));
    expect(await rotateLogIfLarge(file, 200)).toBe(true);
    expect(await readFile(`${file}.1`, 'utf8')).toBe(Array.from({ length: 10 }, (_, i) => line(i)).join(''));
    expect((await stat(`${file}.1`)).mode & 0o777).toBe(0o600);
    await writer.write(line(10));
    expect(await readFile(file, 'utf8')).toBe(line(10));
    expect(await rotateLogIfLarge(file, 200)).toBe(false);

    let printed = '';
    await printLog(file, { follow: false, write: (t) => (printed += t) });
    expect(printed).toBe(line(10));
  });

  it('is followed across rotations without losing or repeating a line', async () => {
    const abort = new AbortController();
    let followed = '';
    const following = printLog(file, { follow: true, write: (t) => (followed += t), signal: abort.signal });
    let expected = '';
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 8; i++) {
        const text = line(round * 8 + i);
        expected += text;
        await writer.write(text);
      }
      // In odd rounds the rotation comes right after the writes, usually before the follower read them.
      if (round % 2 === 0) await waitFor(`the follower to catch up before rotation ${round + 1}`, () => followed === expected);
      expect(await rotateLogIfLarge(file, 300)).toBe(true);
      await waitFor(`the follower to catch up after rotation ${round + 1}`, () => followed === expected);
    }
    await writer.write(line(999));
    expected += line(999);
    await waitFor('the follower to see everything', () => followed === expected, 5_000);
    abort.abort();
    await following;
    expect(followed).toBe(expected);
  });
});

describe('log files never written through a symlink', () => {
  it('a link planted at <name>.log is refused by the launcher\'s open, and its target is untouched', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious\n');
    const log = join(dir, 'planted.log');
    await symlink(victim, log);
    expect(() => openLogForAppend(log)).toThrow(/symbolic link/);
    await expect(rotateLogIfLarge(log, 1)).rejects.toThrow(/symbolic link/);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
  });

  it('a link planted at <log>.1.tmp is replaced, not written through', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious\n');
    await symlink(victim, `${file}.1.tmp`);
    for (let i = 0; i < 10; i++) await writer.write(line(i));
    expect(await rotateLogIfLarge(file, 200)).toBe(true);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(await readFile(`${file}.1`, 'utf8')).toBe(Array.from({ length: 10 }, (_, i) => line(i)).join(''));

    const writerFd = openLogForAppend(file);
    try {
      await symlink(victim, `${file}.1.tmp`);
      const capped = new CappedLogWriter(file, writerFd, 300);
      for (let i = 0; i < 20; i++) capped.write(Buffer.from(line(i)));
      expect(await readFile(victim, 'utf8')).toBe('precious\n');
    } finally {
      closeSync(writerFd);
    }
  });
});

describe('CappedLogWriter (the supervisor\'s log writer)', () => {
  it('rotates before the write that would pass the cap: the log never exceeds it and no line is lost', async () => {
    const fd = openLogForAppend(file);
    try {
      const capped = new CappedLogWriter(file, fd, 1000);
      let all = '';
      let largest = 0;
      for (let i = 0; i < 200; i++) {
        capped.write(Buffer.from(line(i)));
        all += line(i);
        largest = Math.max(largest, (await stat(file)).size);
      }
      expect(largest).toBeLessThanOrEqual(1000);
      const old = await readFile(`${file}.1`, 'utf8');
      const current = await readFile(file, 'utf8');
      expect(all.endsWith(old + current)).toBe(true);
      expect(old.length + current.length).toBeGreaterThan(1000);
    } finally {
      closeSync(fd);
    }
  });
});
