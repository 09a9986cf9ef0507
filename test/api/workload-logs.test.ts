import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_TAIL_BYTES, MAX_LOG_TAIL_BYTES } from '../../src/api/log-tail.js';
import { resolvePaths } from '../../src/core/paths.js';
import { createAppServices } from '../../src/app/services.js';
import { startTestApi, type TestApi } from './helpers.js';

const NAME = 'chatty';
const LOGS = `/api/v1beta/workloads/${NAME}/logs`;

let api: TestApi;
let logFile: string;
beforeEach(async () => {
  api = await startTestApi();
  const paths = resolvePaths(api.home.env);
  const workloads = await createAppServices({ paths, env: api.home.env, interactive: false }).workloads();
  await workloads.create({ name: NAME, command: ['node', '-e', '0'] });
  logFile = workloads.logFile(NAME);
  await mkdir(dirname(logFile), { recursive: true });
});
afterEach(async () => {
  await api.close();
});

/** `count` numbered lines of 100 bytes each (99 characters and the newline). */
function lines(from: number, count: number): string {
  let text = '';
  for (let i = from; i < from + count; i += 1) text += `line ${String(i).padStart(8, '0')} ${'x'.repeat(85)}\n`;
  return text;
}

describe('GET /workloads/{name}/logs on a large log', () => {
  it('answers the last 256 KiB by default, starting with a whole line and ending with the last one', async () => {
    await writeFile(logFile, lines(0, 40_000)); // 4 MB
    const res = await api.send(LOGS);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const bytes = Buffer.byteLength(res.text);
    expect(bytes).toBeLessThanOrEqual(DEFAULT_LOG_TAIL_BYTES);
    expect(bytes).toBeGreaterThan(DEFAULT_LOG_TAIL_BYTES - 100);
    expect(res.text).toMatch(/^line \d{8} x{85}\n/);
    expect(res.text.endsWith(lines(39_999, 1))).toBe(true);
    expect(res.text.split('\n').filter(Boolean).every((l) => /^line \d{8} x{85}$/.test(l))).toBe(true);
  });

  it('?tail_bytes= gives fewer bytes, still from a line boundary (a cut exactly at one keeps that line)', async () => {
    await writeFile(logFile, lines(0, 1000));
    expect((await api.send(`${LOGS}?tail_bytes=250`)).text).toBe(lines(998, 2));
    expect((await api.send(`${LOGS}?tail_bytes=300`)).text).toBe(lines(997, 3));
  });

  it('a log shorter than the tail comes whole, and a missing log is empty', async () => {
    expect((await api.send(LOGS)).text).toBe('');
    await writeFile(logFile, 'no newline at the end');
    expect((await api.send(LOGS)).text).toBe('no newline at the end');
  });

  it('one line longer than the tail is cut at a whole UTF-8 character', async () => {
    await writeFile(logFile, 'é'.repeat(1000));
    const res = await api.send(`${LOGS}?tail_bytes=101`);
    expect(res.text).toBe('é'.repeat(50));
  });

  it('a tail_bytes over the cap, zero or not a number is a 400', async () => {
    await appendFile(logFile, lines(0, 3));
    for (const value of [String(MAX_LOG_TAIL_BYTES + 1), '0', 'lots']) {
      const res = await api.send(`${LOGS}?tail_bytes=${value}`);
      expect(res.status, value).toBe(400);
      expect(res.json).toMatchObject({ code: 'bad_request' });
    }
    expect((await api.send(`${LOGS}?tail_bytes=${MAX_LOG_TAIL_BYTES}`)).text).toBe(lines(0, 3));
  });

  it('an unknown workload is a 404', async () => {
    const res = await api.send('/api/v1beta/workloads/nobody/logs');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'not_found' });
  });
});
