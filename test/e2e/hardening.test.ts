import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolvePaths } from '../../src/core/paths.js';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { startServe } from '../fixtures/serve.js';
import { STDIO_FIXTURE, isAlive, waitFor } from '../workloads/helpers.js';

/**
 * What a hostile or careless input does to the built CLI (docs/workloads.md, docs/api.md#toolhive-studio):
 * a stderr flood against the log cap, racing creates, path traversal in names, planted symlinks,
 * registry files that are devices or secrets, a run config that names another workload.
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

const run = (name: string, extra: string[] = []) => runThv(['run', '--name', name, '--isolation', 'none', ...extra, '--', 'node', STDIO_FIXTURE], home, { timeoutMs: 60_000 });

interface Listed {
  name: string;
  status: string;
  status_context: string;
  process_id: number;
}
async function list(): Promise<Listed[]> {
  const res = await runThv(['list', '--all', '--format', 'json'], home);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Listed[];
}

describe('one workload per name, from the CLI', () => {
  it('4 parallel `thv run --name dup`: exactly one runs, the other three exit 1 with already_exists', async () => {
    const results = await Promise.all([0, 1, 2, 3].map(() => run('dup')));
    const won = results.filter((r) => r.code === 0);
    const lost = results.filter((r) => r.code !== 0);
    expect(won, results.map((r) => r.stderr).join('\n')).toHaveLength(1);
    for (const r of lost) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('workload "dup" already exists');
    }
    const listed = await list();
    expect(listed.map((w) => [w.name, w.status])).toEqual([['dup', 'running']]);
    expect(isAlive(listed[0]!.process_id)).toBe(true);
  }, 120_000);
});

describe('names that try to leave thv\'s folders, from the CLI', () => {
  it('group rm, run --group, rm and logs refuse ../ names with exit 2; files outside are neither read nor deleted', async () => {
    const paths = resolvePaths(home.env);
    await mkdir(paths.groupsDir, { recursive: true });
    // Where each traversal would land: a group file outside groups/, a log outside logs/.
    const victim = join(home.root, 'victim.json');
    await writeFile(victim, JSON.stringify({ name: 'victim', registered_clients: [] }));
    const groupOutside = join(paths.stateDir, 'x.json');
    await writeFile(groupOutside, JSON.stringify({ name: 'x', registered_clients: [] }));
    const logOutside = join(home.root, 'secret-notes.log');
    await writeFile(logOutside, 'not-for-thv-logs\n');

    const attempts = [
      ['group', 'rm', '../../../victim'],
      ['group', 'rm', '../../../victim', '--with-workloads'],
      ['run', '--name', 'trav', '--group', '../x', '--isolation', 'none', '--', 'node', STDIO_FIXTURE],
      ['run', '--name', '../../../victim', '--isolation', 'none', '--', 'node', STDIO_FIXTURE],
      ['rm', '../../../victim'],
      ['stop', '../../../victim'],
      ['logs', '../../../../secret-notes'],
      ['group', 'create', '../escaped'],
    ];
    for (const args of attempts) {
      const res = await runThv(args, home, { timeoutMs: 60_000 });
      expect(res.code, `thv ${args.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(/is not a valid (group|workload) name|argument '\.\.\/x' is invalid/);
      expect(res.stdout + res.stderr).not.toContain('not-for-thv-logs');
    }
    expect(JSON.parse(await readFile(victim, 'utf8'))).toMatchObject({ name: 'victim' });
    expect(JSON.parse(await readFile(groupOutside, 'utf8'))).toMatchObject({ name: 'x' });
    await expect(stat(join(paths.stateDir, 'escaped.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await list()).toEqual([]);
  }, 120_000);

  it('secret names are keys inside the encrypted store, never paths: ../ names touch no file outside it', async () => {
    const env = { TOOLHIVE_SECRETS_PASSWORD: 'hardening-password' };
    const victim = join(home.root, 'victim');
    await writeFile(victim, 'precious\n');
    const set = await runThv(['secret', 'set', '../../../../victim'], home, { env, input: 'value-1' });
    expect(set.code, set.stderr).toBe(0);
    const get = await runThv(['secret', 'get', '../../../../victim'], home, { env });
    expect(get.stdout).toBe('value-1\n');
    const del = await runThv(['secret', 'delete', '../../../../victim'], home, { env });
    expect(del.code, del.stderr).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    const bad = await runThv(['secret', 'set', 'a=b'], home, { env, input: 'x' });
    expect(bad.code).toBe(2);
    // Nothing but thv's own files appeared.
    for (const entry of await readdir(home.root)) expect(['cache', 'config', 'data', 'state', 'victim']).toContain(entry);
  }, 60_000);
});

describe('planted symlinks and damaged run configs, with the built CLI', () => {
  it('links planted at the run config and status file are replaced, never written through; a link at the log fails the start', async () => {
    const paths = resolvePaths(home.env);
    await mkdir(paths.runConfigsDir, { recursive: true });
    await mkdir(paths.statusesDir, { recursive: true });
    await mkdir(paths.logsDir, { recursive: true });
    const victims = { config: join(home.root, 'victim-config'), status: join(home.root, 'victim-status'), log: join(home.root, 'victim-log') };
    for (const file of Object.values(victims)) await writeFile(file, 'precious\n');
    await symlink(victims.config, join(paths.runConfigsDir, 'sym.json'));
    await symlink(victims.status, join(paths.statusesDir, 'sym.json'));

    // The run config link is neither read nor written: the run is refused naming it, and rm removes the link only.
    const refusedConfig = await run('sym');
    expect(refusedConfig.code).not.toBe(0);
    expect(refusedConfig.stderr).toContain('sym.json is a symbolic link; thv does not read through one');
    expect(refusedConfig.stderr).not.toContain('precious');
    expect((await runThv(['rm', 'sym'], home, { timeoutMs: 60_000 })).code).toBe(0);
    await expect(lstat(join(paths.runConfigsDir, 'sym.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    // The status link is read as damaged and replaced by the first status write.
    await symlink(victims.status, join(paths.statusesDir, 'sym.json')).catch(() => undefined);
    const ok = await run('sym');
    expect(ok.code, ok.stderr).toBe(0);
    expect((await lstat(join(paths.statusesDir, 'sym.json'))).isSymbolicLink()).toBe(false);

    await symlink(victims.log, join(paths.logsDir, 'symlog.log'));
    const refused = await run('symlog');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('is a symbolic link; thv never writes through one');
    for (const file of Object.values(victims)) expect(await readFile(file, 'utf8')).toBe('precious\n');
  }, 120_000);

  it('a run config that names another workload is listed unknown with the reason, and stop acts on its own supervisor only', async () => {
    for (const name of ['alpha', 'beta']) expect((await run(name)).code).toBe(0);
    const paths = resolvePaths(home.env);
    const file = join(paths.runConfigsDir, 'alpha.json');
    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), name: 'beta' }));
    const before = await list();
    const alpha = before.find((w) => w.name === 'alpha')!;
    const beta = before.find((w) => w.name === 'beta')!;
    expect(alpha).toMatchObject({ status: 'unknown', status_context: expect.stringContaining('names workload "beta", not "alpha"') });
    expect(beta.status).toBe('running');
    const stop = await runThv(['stop', 'alpha'], home, { timeoutMs: 60_000 });
    expect(stop.code, stop.stderr).toBe(0);
    await waitFor('alpha\'s supervisor to stop', () => !isAlive(alpha.process_id) || undefined, 30_000);
    expect(isAlive(beta.process_id)).toBe(true);
    expect((await list()).find((w) => w.name === 'beta')!.status).toBe('running');
  }, 120_000);
});

describe('registry files from the CLI', () => {
  it('thv config set-registry refuses /dev/zero at once and never echoes a file it cannot use', async () => {
    const zero = await runThv(['config', 'set-registry', '/dev/zero'], home);
    expect(zero.code).not.toBe(0);
    expect(zero.stderr).toContain('is not a regular file');
    const random = join(home.root, 'random.txt');
    const text = `rnd${randomBytes(24).toString('hex')}`;
    await writeFile(random, `${text}\n`);
    const res = await runThv(['config', 'set-registry', random], home);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('is not valid JSON');
    expect(res.stdout + res.stderr).not.toContain(text.slice(0, 8));
    expect((await runThv(['config', 'get-registry'], home)).stdout).toContain('embedded');
  });
});

describe('the CLI while thv serve runs', () => {
  it('list, group create, run, stop and rm keep working beside a running API server (socket and TCP)', async () => {
    const socketDir = join(home.root, 'sock');
    await mkdir(socketDir, { mode: 0o700 });
    const servers = [await startServe(home, [`--socket=${join(socketDir, 'thv.sock')}`]), await startServe(home, ['--port', '0'])];
    try {
      expect((await runThv(['group', 'create', 'beside'], home)).code).toBe(0);
      expect((await run('beside-w', ['--group', 'beside'])).code).toBe(0);
      expect((await list()).map((w) => [w.name, w.status])).toEqual([['beside-w', 'running']]);
      expect((await runThv(['stop', 'beside-w'], home, { timeoutMs: 60_000 })).code).toBe(0);
      expect((await runThv(['rm', 'beside-w'], home, { timeoutMs: 60_000 })).code).toBe(0);
      expect(await list()).toEqual([]);
    } finally {
      for (const server of servers) expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});
