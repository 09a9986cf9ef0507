import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolvePaths } from '../../src/core/paths.js';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { waitFor } from '../workloads/helpers.js';

/**
 * What a hostile or careless input does to the built CLI (docs/workloads.md#logs, docs/api.md#toolhive-studio):
 * a stderr flood against the log cap.
 */
let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await runThv(['stop', '--all'], home);
  await home.cleanup();
});

const MiB = 1024 * 1024;
const CAP = 10 * MiB; // docs/workloads.md#logs: 10 MiB, plus one old file

async function sizeOf(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}

const FLOODER = `
import { writeFileSync, writeSync } from 'node:fs';
const total = Number(process.env.FLOOD_BYTES);
const chunk = Buffer.alloc(65536, 120);
chunk[chunk.length - 1] = 10;
function put(buf) {
  for (let at = 0; at < buf.length; ) {
    try { at += writeSync(2, buf, at, buf.length - at); } catch (err) { if (err.code !== 'EAGAIN') throw err; }
  }
}
for (let sent = 0; sent < total; sent += chunk.length) put(chunk);
put(Buffer.from('FLOOD-END\\n'));
writeFileSync(process.env.FLOOD_DONE, 'done');
process.stdin.resume();
`;

describe('the workload log under a stderr flood', () => {
  it('stays within the cap while the server writes 64 MiB to stderr as fast as it can, rotating as it writes', async () => {
    const flooder = join(home.root, 'flooder.mjs');
    const done = join(home.root, 'flood-done');
    await writeFile(flooder, FLOODER);
    const log = join(resolvePaths(home.env).logsDir, 'flood.log');
    const run = await runThv(['run', '--name', 'flood', '--isolation', 'none', '-e', `FLOOD_BYTES=${64 * MiB}`, '-e', `FLOOD_DONE=${done}`, '--', 'node', flooder], home, { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    let largestLog = 0;
    let largestTotal = 0;
    // Sampled as the files grow until the flood is over and its last line has reached the log.
    await waitFor('the flood to reach the log', async () => {
      const finished = await stat(done).then(() => true, () => false);
      const [current, old] = [await sizeOf(log), await sizeOf(`${log}.1`)];
      largestLog = Math.max(largestLog, current);
      largestTotal = Math.max(largestTotal, current + old);
      return finished && (await readFile(log, 'utf8').catch(() => '')).includes('FLOOD-END');
    }, 120_000);
    console.error(`log flood: largest log ${(largestLog / MiB).toFixed(1)} MiB, largest log + log.1 ${(largestTotal / MiB).toFixed(1)} MiB`);
    expect(largestLog).toBeLessThanOrEqual(2 * CAP);
    expect(largestTotal).toBeLessThanOrEqual(2 * 2 * CAP);
    expect(await sizeOf(`${log}.1`)).toBeGreaterThan(CAP / 2);
    // The workload is still up and its supervisor still logs.
    const status = JSON.parse((await runThv(['status', 'flood', '--format', 'json'], home)).stdout) as { status: string };
    expect(status.status).toBe('running');
  }, 180_000);
});
