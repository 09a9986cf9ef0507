import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { THV_BIN, makeTempHome, runThv, spawnedChildren, type TempHome } from '../fixtures/cli.js';
import { startMcpHttpServer, type McpHttpFixture } from '../fixtures/mcp-http-server.mjs';
import { startRegistryServer, makeServers } from '../fixtures/registry-server.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { STDIO_FIXTURE, connectClient, isAlive, pidsIn, textOf, waitFor } from '../workloads/helpers.js';

let home: TempHome;
let pidFile: string;

beforeEach(async () => {
  home = await makeTempHome();
  pidFile = join(home.root, 'fixture-pids');
});

const spawned = spawnedChildren();
afterEach(async () => {
  await spawned.endAll();
  await runThv(['stop', '--all'], home);
  const leftovers = (await pidsIn(pidFile)).filter(isAlive);
  for (const pid of leftovers) process.kill(pid, 'SIGKILL');
  await home.cleanup();
  expect(leftovers).toEqual([]);
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/**
 * These tests follow the server's host pid (FIXTURE_PID_FILE, orphan clean-up), which only exists for
 * a host process: inside the sandbox the pid is the sandbox's own and the pid file is out of reach.
 * They run unconfined; test/e2e/isolation.test.ts covers the sandbox (docs/isolation.md).
 */
const hostPids = () => ['--isolation', 'none', '-e', `FIXTURE_PID_FILE=${pidFile}`];
/** stderr without the warning every unconfined run prints. */
const quiet = (stderr: string) => stderr.replace(/^Warning: "[^"]+" runs unconfined.*\n/m, '');

const urlIn = (stdout: string) => /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(stdout)?.[1] ?? '';

async function runFixture(name: string, extra: string[] = []) {
  const result = await runThv(['run', '--name', name, ...hostPids(), ...extra, '--', 'node', STDIO_FIXTURE], home);
  return { ...result, url: urlIn(result.stdout) };
}

async function statusOf(name: string): Promise<{ status: string; status_context: string; process_id: number }> {
  const result = await runThv(['status', name, '--format', 'json'], home);
  return JSON.parse(result.stdout);
}

async function listJson(all = false): Promise<Array<{ name: string; status: string; status_context: string; process_id: number; url: string }>> {
  const result = await runThv(['list', '--format', 'json', ...(all ? ['--all'] : [])], home);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

describe('a stdio workload run with -- <command>', () => {
  it('serves an SDK client, stops without leaving a process, starts again, and rm leaves no files', async () => {
    const run = await runFixture('echo');
    expect(quiet(run.stderr)).toBe('');
    expect(run.code).toBe(0);
    expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const client = await connectClient(run.url);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hello through thv' } }))).toBe('hello through thv');
    await client.close();

    const listed = await runThv(['list'], home);
    expect(listed.stdout).toMatch(/^echo\s+.*\brunning\b/m);
    const [firstPid] = await pidsIn(pidFile);
    expect(isAlive(firstPid!)).toBe(true);
    const supervisorPid = (await statusOf('echo')).process_id;

    const stop = await runThv(['stop', 'echo'], home);
    expect(stop.code).toBe(0);
    expect(isAlive(firstPid!)).toBe(false);
    expect(isAlive(supervisorPid)).toBe(false);
    expect((await statusOf('echo')).status).toBe('stopped');
    expect((await listJson()).map((w) => w.name)).not.toContain('echo');
    expect((await listJson(true)).find((w) => w.name === 'echo')?.status).toBe('stopped');

    const start = await runThv(['start', 'echo'], home);
    expect(start.code).toBe(0);
    expect(urlIn(start.stdout)).toBe(run.url);
    const again = await connectClient(run.url);
    expect(textOf(await again.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again');
    await again.close();

    const rm = await runThv(['rm', 'echo'], home);
    expect(rm.code).toBe(0);
    expect((await pidsIn(pidFile)).filter(isAlive)).toEqual([]);
    const leftovers = await Promise.all(
      ['data/toolhive/statuses', 'data/toolhive/logs', 'state/toolhive/runconfigs'].map((d) => readdir(join(home.root, d)).catch(() => [])),
    );
    expect(leftovers.flat()).toEqual([]);
  });

  it('writes the status file and the run config owner-only, with the exact status fields and no secret values', async () => {
    const run = await runFixture('files', ['-e', 'PLAIN=visible']);
    expect(run.code).toBe(0);
    const statusFile = join(home.root, 'data/toolhive/statuses/files.json');
    const runConfig = join(home.root, 'state/toolhive/runconfigs/files.json');
    expect((await stat(statusFile)).mode & 0o777).toBe(0o600);
    expect((await stat(runConfig)).mode & 0o777).toBe(0o600);
    const status = JSON.parse(await readFile(statusFile, 'utf8'));
    expect(Object.keys(status).sort()).toEqual(['created_at', 'process_id', 'status', 'status_context', 'updated_at']);
    expect(status.status).toBe('running');
    const config = JSON.parse(await readFile(runConfig, 'utf8'));
    expect(config).toMatchObject({ command: 'node', args: [STDIO_FIXTURE], env: { PLAIN: 'visible' }, transport: 'stdio' });
  });

  it('gives the server only the minimal environment plus what it was given', async () => {
    const run = await runThv(['run', '--name', 'env', '-e', 'GIVEN=yes', '--', 'node', STDIO_FIXTURE], home, {
      env: { LEAKY_SECRET: 'must-not-pass' },
    });
    const client = await connectClient(urlIn(run.stdout));
    const names = JSON.parse(textOf(await client.callTool({ name: 'env', arguments: {} }))) as string[];
    await client.close();
    expect(names).toContain('GIVEN');
    expect(names).toContain('PATH');
    expect(names).not.toContain('LEAKY_SECRET');
    expect(names).not.toContain('XDG_DATA_HOME');
  });

  it('--secret resolves from the secrets store at start and its value is written nowhere', async () => {
    const secretEnv = { TOOLHIVE_SECRETS_PROVIDER: 'environment', TOOLHIVE_SECRET_API_KEY: 'the-secret-value-42' };
    const run = await runThv(['run', '--name', 'sec', '--secret', 'API_KEY,target=SERVER_KEY', '--', 'node', STDIO_FIXTURE], home, { env: secretEnv });
    expect(run.code).toBe(0);
    const client = await connectClient(urlIn(run.stdout));
    expect(textOf(await client.callTool({ name: 'getenv', arguments: { name: 'SERVER_KEY' } }))).toBe('the-secret-value-42');
    expect(textOf(await client.callTool({ name: 'getenv', arguments: { name: 'TOOLHIVE_SECRET_API_KEY' } }))).toBe('');
    await client.close();
    const config = await readFile(join(home.root, 'state/toolhive/runconfigs/sec.json'), 'utf8');
    expect(JSON.parse(config).secrets).toEqual([{ name: 'API_KEY', target: 'SERVER_KEY' }]);
    for (const file of [config, await readFile(join(home.root, 'data/toolhive/statuses/sec.json'), 'utf8'), await readFile(join(home.root, 'data/toolhive/logs/sec.log'), 'utf8')]) {
      expect(file).not.toContain('the-secret-value-42');
    }
    // `thv start` resolves it again from the store.
    await runThv(['stop', 'sec'], home);
    expect((await runThv(['start', 'sec'], home, { env: secretEnv })).code).toBe(0);
    const again = await connectClient(urlIn(run.stdout));
    expect(textOf(await again.callTool({ name: 'getenv', arguments: { name: 'SERVER_KEY' } }))).toBe('the-secret-value-42');
    await again.close();
  });

  it('a --secret missing from the store is a not-found error that names it', async () => {
    const run = await runThv(['run', '--name', 'nosec', '--secret', 'MISSING,target=X', '--', 'node', STDIO_FIXTURE], home, {
      env: { TOOLHIVE_SECRETS_PROVIDER: 'environment' },
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('secret "MISSING"');
  });

  it('after kill -9 of the supervisor, list no longer says running and says why', async () => {
    const run = await runFixture('victim');
    expect(run.code).toBe(0);
    const pid = (await statusOf('victim')).process_id;
    expect(isAlive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await waitFor('the supervisor to die', () => !isAlive(pid));

    const list = await listJson();
    const victim = list.find((w) => w.name === 'victim');
    expect(victim?.status).toBe('error');
    // The server may or may not have exited on its own (its stdin closed) before list looked.
    expect(victim?.status_context).toMatch(new RegExp(`^supervisor process ${pid} is not running`));
    const text = await runThv(['status', 'victim'], home);
    expect(text.stdout).toContain(`supervisor process ${pid} is not running`);
    await waitFor('the fixture to exit', async () => (await pidsIn(pidFile)).every((p) => !isAlive(p)));
  });

  it('after kill -9 of the supervisor, list stops a server that ignores its stdin and says so', async () => {
    // `sleep` never reads stdin, so only thv can end it once its supervisor is gone.
    const run = await runThv(['run', '--name', 'orphan', '--isolation', 'none', '--', 'sh', '-c', `echo $$ >> '${pidFile}'; exec sleep 4321`], home);
    expect(run.code).toBe(0);
    const pid = (await statusOf('orphan')).process_id;
    const [child] = await waitFor('the child pid', async () => ((await pidsIn(pidFile)).length ? pidsIn(pidFile) : undefined));
    expect(isAlive(child!)).toBe(true);
    const record = join(home.root, 'data/toolhive/statuses/orphan.child');
    expect((await stat(record)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(record, 'utf8'))).toMatchObject({ supervisor_pid: pid, pgid: child });
    process.kill(pid, 'SIGKILL');
    await waitFor('the supervisor to die', () => !isAlive(pid));
    expect(isAlive(child!)).toBe(true);

    const orphan = (await listJson()).find((w) => w.name === 'orphan');
    expect(orphan?.status).toBe('error');
    expect(orphan?.status_context).toBe(`supervisor process ${pid} is not running; stopped its orphaned MCP server (process group ${child})`);
    expect(isAlive(child!)).toBe(false);
    expect(await readdir(join(home.root, 'data/toolhive/statuses'))).not.toContain('orphan.child');
  });

  it('thv rm stops the server of a supervisor killed with kill -9', async () => {
    const run = await runThv(['run', '--name', 'orphan-rm', '--isolation', 'none', '--', 'sh', '-c', `echo $$ >> '${pidFile}'; exec sleep 4322`], home);
    expect(run.code).toBe(0);
    const pid = (await statusOf('orphan-rm')).process_id;
    const [child] = await waitFor('the child pid', async () => ((await pidsIn(pidFile)).length ? pidsIn(pidFile) : undefined));
    process.kill(pid, 'SIGKILL');
    await waitFor('the supervisor to die', () => !isAlive(pid));
    expect((await runThv(['rm', 'orphan-rm'], home)).code).toBe(0);
    expect(isAlive(child!)).toBe(false);
  });

  it('restarts a child that crashes mid-session; the session keeps working and the crash is recorded', async () => {
    const run = await runFixture('crashy');
    // The crash comes after start-up (the run returned): the restart loop, not the start-up window.
    expect(run.code).toBe(0);
    const client = await connectClient(run.url);
    const before = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    // Its answer may or may not get out before the exit; either way the session must survive.
    await client.callTool({ name: 'crash', arguments: {} }).catch(() => undefined);

    const status = await waitFor('a restart', async () => {
      const s = await statusOf('crashy');
      return s.status === 'running' && s.status_context.includes('restarted') ? s : undefined;
    });
    expect(status.status_context).toContain('exited with code 3');

    const after = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    expect(after).not.toBe(before);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here');
    await client.close();

    const logs = await runThv(['logs', 'crashy'], home);
    expect(logs.stdout).toContain('fixture: crashing on purpose');
    expect(logs.stdout).toMatch(/MCP server process exited with code 3 .*restarting/);
  });

  it('a port in use is a clear error', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const run = await runFixture('blocked', ['--proxy-port', String(port)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(run.stderr).toContain('--proxy-port');
      expect((await statusOf('blocked')).status).toBe('error');

      // The failed workload does not block the retry: it is replaced.
      const retry = await runFixture('blocked');
      expect(quiet(retry.stderr)).toBe('');
      expect(retry.code).toBe(0);
      const client = await connectClient(retry.url);
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'retried' } }))).toBe('retried');
      await client.close();
      expect((await listJson(true)).map((w) => [w.name, w.status])).toEqual([['blocked', 'running']]);
    } finally {
      blocker.close();
    }
  });

  it('a missing command given by path fails before anything is written', async () => {
    const before = await filesUnder(home.root);
    const run = await runThv(['run', '--name', 'ghost', '--', '/nonexistent/cmd', '--flag'], home);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('command "/nonexistent/cmd" does not exist or is not executable');
    expect(await filesUnder(home.root)).toEqual(before);
    expect(await listJson(true)).toEqual([]);
  });

  it('--transport sse prints the SSE endpoint, and an SSE client lists tools through it', async () => {
    const run = await runFixture('s1', ['--transport', 'sse']);
    expect(quiet(run.stderr)).toBe('');
    expect(run.code).toBe(0);
    expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sse#s1$/);
    const client = new Client({ name: 'thv-test', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(run.url)));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    await client.close();

    const http = await runFixture('s2', ['--transport', 'streamable-http']);
    expect(http.code).toBe(0);
    expect(http.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  });

  it('--foreground serves until SIGTERM, then stops the server and records it', async () => {
    const fg = spawned.add(
      spawn(process.execPath, [THV_BIN, 'run', '--foreground', '--name', 'fg', ...hostPids(), '--', 'node', STDIO_FIXTURE], {
        env: home.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    fg.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => fg.on('exit', (code) => r(code)));
    const url = await waitFor('the URL', () => urlIn(out) || undefined);
    const client = await connectClient(url);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'foreground' } }))).toBe('foreground');
    await client.close();
    expect((await statusOf('fg')).process_id).toBe(fg.pid);
    fg.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect((await statusOf('fg')).status).toBe('stopped');
    expect((await pidsIn(pidFile)).filter(isAlive)).toEqual([]);
  });

  it('refuses a second workload with the same name', async () => {
    expect((await runFixture('twice')).code).toBe(0);
    const second = await runFixture('twice');
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('workload "twice" already exists');
    expect((await runThv(['stop', 'twice'], home)).code).toBe(0);
    const stopped = await runFixture('twice');
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('workload "twice" already exists');
    expect(stopped.stderr).toContain('thv start twice');
    expect(stopped.stderr).toContain('thv rm twice');
  });

  it('prints the log of a workload, and --follow prints what is appended', async () => {
    const run = await runFixture('logged');
    expect(run.code).toBe(0);
    const logs = await runThv(['logs', 'logged'], home);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('MCP server process started');

    const follow = spawn(process.execPath, [THV_BIN, 'logs', 'logged', '--follow'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.setEncoding('utf8').on('data', (d: string) => (followed += d));
    try {
      await waitFor('the existing log', () => followed.includes('MCP server process started'));
      expect(followed).not.toContain('supervisor stopped');
      await runThv(['stop', 'logged'], home);
      await waitFor('the appended lines', () => followed.includes('supervisor stopped'));
    } finally {
      follow.kill('SIGTERM');
    }
  });
});

describe('a workload log past 10 MiB', () => {
  it('is rotated while the workload runs, and logs --follow keeps following', async () => {
    // The fixture, plus 11 MiB on stderr when the test asks for it with SIGUSR2.
    const script = `process.on('SIGUSR2', () => process.stderr.write('e'.repeat(11 * 1024 * 1024) + '\\nspam done\\n')); import(${JSON.stringify(pathToFileURL(STDIO_FIXTURE).href)});`;
    const run = await runThv(['run', '--name', 'chatty', ...hostPids(), '--', 'node', '-e', script], home);
    expect(run.code).toBe(0);
    const [child] = await waitFor('the server pid', async () => ((await pidsIn(pidFile)).length ? pidsIn(pidFile) : undefined));
    const log = join(home.root, 'data/toolhive/logs/chatty.log');

    const follow = spawn(process.execPath, [THV_BIN, 'logs', 'chatty', '--follow'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.setEncoding('utf8').on('data', (d: string) => (followed += d));
    try {
      await waitFor('the existing log', () => followed.includes('MCP server process started'));
      process.kill(child!, 'SIGUSR2');
      await waitFor('the rotation', async () => ((await stat(`${log}.1`).catch(() => undefined))?.size ?? 0) > 9 * 1024 * 1024, 20_000);
      expect((await stat(log)).size).toBeLessThan(2 * 1024 * 1024);
      await waitFor('the follower to read the spam', () => followed.includes('spam done'), 20_000);
      await runThv(['stop', 'chatty'], home);
      await waitFor('the lines written after the rotation', () => followed.includes('supervisor stopped'));
    } finally {
      follow.kill('SIGTERM');
    }
    const logs = await runThv(['logs', 'chatty'], home);
    expect(logs.stdout).toContain('supervisor stopped');
    expect(logs.stdout.length).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('a stdio workload run with npx://', () => {
  it('runs a local npm package folder through npx (no network) and stop ends its whole process tree', async () => {
    const pkg = join(home.root, 'local-mcp-package');
    await mkdir(pkg);
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'local-mcp-package', version: '1.0.0', bin: { 'local-mcp-package': 'bin.mjs' } }));
    await writeFile(join(pkg, 'bin.mjs'), `#!/usr/bin/env node\nawait import(${JSON.stringify(pathToFileURL(STDIO_FIXTURE).href)});\n`, { mode: 0o755 });
    const run = await runThv(
      ['run', `npx://${pkg}`, '--name', 'viz', '-e', 'npm_config_offline=true', '-e', 'npm_config_update_notifier=false', ...hostPids()],
      home,
    );
    expect(quiet(run.stderr)).toBe('');
    expect(run.code).toBe(0);
    const config = JSON.parse(await readFile(join(home.root, 'state/toolhive/runconfigs/viz.json'), 'utf8'));
    expect(config.args).toEqual(['-y', pkg]);
    expect(config.source).toMatchObject({ kind: 'npx', package: pkg });

    const client = await connectClient(urlIn(run.stdout));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'from npx' } }))).toBe('from npx');
    await client.close();
    // The fixture is npx's child, a grandchild of the supervisor: only a group kill reaches it.
    const [serverPid] = await pidsIn(pidFile);
    expect(isAlive(serverPid!)).toBe(true);
    expect((await runThv(['stop', 'viz'], home)).code).toBe(0);
    expect(isAlive(serverPid!)).toBe(false);
  });
});

describe('groups', () => {
  it('creates, lists and removes groups; a workload can only join an existing group', async () => {
    const missing = await runFixture('g1', ['--group', 'team']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('group "team" does not exist');

    expect((await runThv(['group', 'create', 'team'], home)).code).toBe(0);
    expect((await runFixture('g1', ['--group', 'team'])).code).toBe(0);
    const groups = JSON.parse((await runThv(['group', 'list', '--format', 'json'], home)).stdout) as Array<{ name: string; workloads: string[] }>;
    expect(groups.find((g) => g.name === 'team')?.workloads).toEqual(['g1']);
    expect(groups.map((g) => g.name)).toContain('default');

    const rm = await runThv(['group', 'rm', 'team', '--with-workloads'], home);
    expect(rm.code).toBe(0);
    expect(await listJson(true)).toEqual([]);
    expect((await runThv(['group', 'rm', 'default'], home)).code).toBe(2);
  });

  it('errors say what to do next, and the default group reads the same every time', async () => {
    const missing = await runThv(['group', 'rm', 'nope'], home);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('Run `thv group list` to see the groups.');
    expect(missing.stderr).not.toContain('group create');

    expect((await runThv(['group', 'create', 'dev'], home)).code).toBe(0);
    const twice = await runThv(['group', 'create', 'dev'], home);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('Choose another name, or remove it with `thv group rm dev`.');

    const first = await runThv(['group', 'list', '--format', 'json'], home);
    const second = await runThv(['group', 'list', '--format', 'json'], home);
    expect(second.stdout).toBe(first.stdout);
    expect((JSON.parse(first.stdout) as Array<{ name: string }>).find((g) => g.name === 'default')).toEqual({ name: 'default', registered_clients: [], workloads: [] });
    expect((await runThv(['group', 'list'], home)).stdout).toMatch(/^default\s+0\s+-\s*$/m);
  });
});

describe('a remote workload', () => {
  let upstream: McpHttpFixture;
  beforeEach(async () => {
    upstream = await startMcpHttpServer();
  });
  afterEach(async () => {
    await upstream.close();
  });

  it('proxies a streamable-HTTP server, streams SSE replies, strips the client token and adds headers', async () => {
    // X-Api-Key's value is a credential: it is kept in the secrets store (docs/workloads.md).
    const env = { TOOLHIVE_SECRETS_PASSWORD: 'a-test-password' };
    const run = await runThv(['run', upstream.url, '--name', 'r', '--remote-header', 'X-Api-Key: configured', '--remote-header', 'X-Tenant: acme'], home, { env });
    // The one line on stderr warns that the credential header was visible in ps (docs/remote-auth.md).
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Warning: the value of --remote-header with a credential \(use --remote-header-file\) is on the command line/)]);
    expect(run.code).toBe(0);
    const url = urlIn(run.stdout);
    expect(new URL(url).pathname).toBe('/mcp');

    const client = await connectClient(url, { Authorization: 'Bearer client-token-for-thv' });
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'via proxy' } }))).toBe('via proxy');
    // The tool only finishes after release(), which happens when its first progress event has
    // come through the proxy: a buffering proxy would never deliver it.
    const result = await client.callTool({ name: 'wait_for_release', arguments: {} }, undefined, {
      onprogress: () => upstream.release(),
    });
    expect(textOf(result)).toBe('released');
    await client.close();

    const seen = upstream.requests.filter((r) => r.method === 'POST');
    expect(seen.length).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers['x-api-key']).toBe('configured');
      expect(r.headers['x-tenant']).toBe('acme');
    }
    expect((await listJson()).find((w) => w.name === 'r')?.status).toBe('running');
    const config = JSON.parse(await readFile(join(home.root, 'state/toolhive/runconfigs/r.json'), 'utf8'));
    expect(config.headers).toEqual({ 'X-Tenant': 'acme' });
    expect(Object.keys(config.header_refs)).toEqual(['X-Api-Key']);
    for (const file of await filesUnder(home.root)) expect(await readFile(file, 'utf8'), file).not.toContain('configured');

    // Restarted, the supervisor gets the value from the secrets store again.
    expect((await runThv(['restart', 'r'], home, { env })).code).toBe(0);
    const again = await connectClient(url); // the port is kept across restarts
    await again.listTools();
    await again.close();
    expect(upstream.requests.filter((r) => r.method === 'POST').at(-1)?.headers['x-api-key']).toBe('configured');
  });

  it('a header value with a control character is refused before anything is written', async () => {
    const run = await runThv(['run', upstream.url, '--name', 'ctl', '--remote-header', 'X-A: a\u0001b'], home);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('the value of header "X-A" contains characters that cannot be sent');
    expect((await runThv(['list', '--all', '--format', 'json'], home)).stdout.trim()).toBe('[]');
  });
});

describe('a remote workload with a static bearer token', () => {
  let upstream: McpHttpFixture;
  beforeEach(async () => {
    upstream = await startMcpHttpServer();
  });
  afterEach(async () => {
    await upstream.close();
  });

  it('sends the token from the secrets store and never writes it into the run config, status or log', async () => {
    const env = { TOOLHIVE_SECRETS_PASSWORD: 'a-test-password' };
    const token = 'static-token-abc123';
    const run = await runThv(['run', upstream.url, '--name', 'bearer', '--remote-auth-bearer-token', token], home, { env });
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Warning: the value of --remote-auth-bearer-token /)]);
    expect(run.stderr).not.toContain(token);
    expect(run.code).toBe(0);
    const client = await connectClient(urlIn(run.stdout));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'authorised' } }))).toBe('authorised');
    await client.close();
    const posts = upstream.requests.filter((r) => r.method === 'POST');
    expect(posts.every((r) => r.headers.authorization === `Bearer ${token}`)).toBe(true);

    const config = JSON.parse(await readFile(join(home.root, 'state/toolhive/runconfigs/bearer.json'), 'utf8'));
    expect(config.remote_auth.bearer_token_ref).toMatch(/BEARER/);
    for (const file of ['state/toolhive/runconfigs/bearer.json', 'data/toolhive/statuses/bearer.json', 'data/toolhive/logs/bearer.log']) {
      expect(await readFile(join(home.root, file), 'utf8')).not.toContain(token);
    }
  });
});

describe('thv run <registry name>', () => {
  it('an OCI-only entry is a clear "container runtime not available" error naming the image', async () => {
    const run = await runThv(['run', 'apollo-mcp-server'], home);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('container runtime not available');
    expect(run.stderr).toContain('ghcr.io/apollographql/apollo-mcp-server:v1.7.0');
  });

  it('a registry that needs authentication surfaces as an auth error, never as "not found"', async () => {
    const registry = await startRegistryServer({ servers: makeServers(3), authorize: () => ({ status: 401 }) });
    try {
      await runThv(['config', 'set-registry', registry.url, '--allow-private-ip'], home);
      const run = await runThv(['run', 'server-00001'], home);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/authentication required/);
      expect(run.stderr).not.toMatch(/not found|image/i);
    } finally {
      await registry.close();
    }
  });

  it('uvx:// without uvx on PATH says how to get it', async () => {
    const run = await runThv(['run', 'uvx://mcp-server-fetch'], home, { env: { PATH: '/nonexistent' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('uvx was not found on PATH');
    expect(run.stderr).toContain('uv');
  });
});

describe('a stdio server that exits during start-up', () => {
  // Records its pid (so the afterEach checks it is gone), prints its environment's secret and a reason, exits 3.
  const failing = [
    'node',
    '-e',
    "require('fs').appendFileSync(process.env.FIXTURE_PID_FILE, process.pid + '\\n'); console.error('key ' + process.env.API_KEY); console.error('boom: missing API key'); process.exit(3)",
  ];
  const runFailing = (name: string, grace: string) =>
    runThv(['run', '--name', name, ...hostPids(), '-e', 'API_KEY=sekrit-value-123', '--', ...failing], home, { env: { TOOLHIVE_STARTUP_GRACE: grace } });

  it('fails `thv run` with the reason, leaves `error` and no process, and keeps the config for start and rm', async () => {
    // A one-hour window: `thv run` answers when the server exits, not when the window ends (a wait
    // for the window would run into the test's timeout).
    const run = await runFailing('bad', '1h');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Error: failed to run the workload: the MCP server exited with code 3 during start-up: ');
    expect(run.stderr).toContain('boom: missing API key');
    expect(run.stderr).toContain('thv logs bad');
    expect(run.stderr).not.toContain('sekrit-value-123');

    const [listed] = await listJson(true);
    expect(listed).toMatchObject({ name: 'bad', status: 'error' });
    expect(listed!.status_context).toMatch(/^the MCP server exited with code 3 during start-up: .*boom: missing API key$/);
    const statusFile = await readFile(join(home.root, 'data/toolhive/statuses/bad.json'), 'utf8');
    expect(statusFile).not.toContain('sekrit-value-123');
    const supervisorPid = JSON.parse(statusFile).process_id as number;
    expect(supervisorPid).toBeGreaterThan(0);
    await waitFor('the supervisor to exit', () => !isAlive(supervisorPid));
    const [childPid] = await pidsIn(pidFile);
    expect(isAlive(childPid!)).toBe(false);
    expect(await readdir(join(home.root, 'data/toolhive/statuses'))).not.toContain('bad.child');
    // Not restarted: the server ran exactly once.
    expect(await pidsIn(pidFile)).toHaveLength(1);

    const start = await runThv(['start', 'bad'], home, { env: { TOOLHIVE_STARTUP_GRACE: '20s' } });
    expect(start.code).toBe(1);
    expect(start.stderr).toContain('Error: failed to start bad: the MCP server exited with code 3 during start-up: ');
    expect((await runThv(['rm', 'bad'], home)).code).toBe(0);
    expect(await listJson(true)).toEqual([]);
  });

  it('a server that exits late in the window still fails `thv run`: the whole window is waited for', async () => {
    const late = ['node', '-e', "setTimeout(() => { console.error('late boom'); process.exit(3); }, 500)"];
    const run = await runThv(['run', '--name', 'late', '--isolation', 'none', '--', ...late], home, { env: { TOOLHIVE_STARTUP_GRACE: '30s' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the MCP server exited with code 3 during start-up: ');
    expect(run.stderr).toContain('late boom');
    expect((await runThv(['rm', 'late'], home)).code).toBe(0);
  });

  it('a server that stays up through the window runs', async () => {
    const run = await runThv(['run', '--name', 'good', ...hostPids(), '--', 'node', STDIO_FIXTURE], home, { env: { TOOLHIVE_STARTUP_GRACE: '1s' } });
    expect(run.code).toBe(0);
    expect((await statusOf('good')).status).toBe('running');
    const client = await connectClient(urlIn(run.stdout));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'up' } }))).toBe('up');
    await client.close();
  });

  it('TOOLHIVE_STARTUP_GRACE=0 reports ready at once; the crash then goes through the restart loop', async () => {
    const run = await runFailing('nowait', '0');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('MCP server "nowait" is running at');
    await waitFor('a restart after the crash', async () => (await pidsIn(pidFile)).length >= 2 || undefined);
    const status = await statusOf('nowait');
    expect(['running', 'unhealthy']).toContain(status.status);
    expect(status.status_context).toContain('exited with code 3');
  });
});

describe('concurrent starts', () => {
  it('two `thv start` at once launch one supervisor', async () => {
    expect((await runFixture('once')).code).toBe(0);
    expect((await runThv(['stop', 'once'], home)).code).toBe(0);
    const [a, b] = await Promise.all([runThv(['start', 'once'], home), runThv(['start', 'once'], home)]);
    expect([a.code, b.code, a.stderr + b.stderr]).toEqual([0, 0, '']);
    expect([a.stdout, b.stdout].filter((o) => o.includes('already running'))).toHaveLength(1);
    const client = await connectClient(urlIn(a.stdout));
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await client.close();
    expect((await pidsIn(pidFile)).filter(isAlive)).toHaveLength(1);
  });
});
