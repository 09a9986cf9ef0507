import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeTempHome, runThv, workloadUrlIn, type TempHome } from '../fixtures/cli.js';
import { connectClient, textOf } from '../workloads/helpers.js';
import { startPypiIndex, WHEEL } from '../isolation/pypi-index.js';

// The "tested for real" list (docs/isolation.md): the built CLI, real bubblewrap, real
// servers. Each probe runs twice — in the default sandbox and with `--isolation none` — and the
// unconfined run must show the opposite, which proves that each probe can observe what it checks.

const PROBE = resolve(import.meta.dirname, '../fixtures/probe-mcp-server.mjs');
const PASSWORD = 'correct horse battery staple';

function bwrapWorks(): string | undefined {
  if (process.platform !== 'linux') return `sandbox tests need Linux (this is ${process.platform})`;
  try {
    execFileSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', 'true'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `bubblewrap cannot run here: ${(err as Error).message.split('\n')[0]}`;
  }
}
const skipReason = bwrapWorks();
if (skipReason) console.error(`skipping the sandbox end-to-end tests: ${skipReason}`);

interface Target {
  server: Server;
  port: number;
  hits: string[];
}

async function target(): Promise<Target> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('target says hi');
  });
  server.on('connection', () => hits.push('connection'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

let home: TempHome;
let allowed: Target;
let other: Target;
let readDir: string;
let writeDir: string;
let profileFile: string;
const env = () => ({ TOOLHIVE_SECRETS_PASSWORD: PASSWORD, GITHUB_TOKEN: 'ghp_supervisor_must_not_keep_this' });

beforeAll(async () => {
  if (skipReason) return;
  home = await makeTempHome();
  await mkdir(join(home.root, '.ssh'), { recursive: true });
  await writeFile(join(home.root, '.ssh', 'id_rsa'), 'PLANTED PRIVATE KEY');
  readDir = join(home.root, 'granted-read');
  writeDir = join(home.root, 'granted-write');
  await mkdir(readDir);
  await mkdir(writeDir);
  await writeFile(join(readDir, 'data.txt'), 'readable data');
  allowed = await target();
  other = await target();
  profileFile = join(home.root, 'profile.yaml');
  await writeFile(
    profileFile,
    [`read: [${JSON.stringify(readDir)}]`, `write: [${JSON.stringify(writeDir)}]`, 'network:', '  outbound:', '    allow_host: [localhost]', `    allow_port: [${allowed.port}]`, ''].join('\n'),
  );
  // A real secrets store, so there is something to steal.
  const set = await runThv(['secret', 'set', 'API_KEY'], home, { env: env(), input: 'store-secret-value' });
  expect(set.code, set.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  if (skipReason) return;
  await runThv(['stop', '--all'], home, { timeoutMs: 60_000 });
  allowed.server.close();
  other.server.close();
  await home.cleanup();
});

afterEach(() => {
  if (skipReason) return;
  allowed.hits.length = 0;
  other.hits.length = 0;
});

async function runProbe(name: string, extra: string[]) {
  const run = await runThv(['run', '--name', name, '--permission-profile', profileFile, ...extra, '--', 'node', PROBE], home, { env: env(), timeoutMs: 60_000 });
  expect(run.code, run.stderr).toBe(0);
  const url = workloadUrlIn(run.stdout);
  const status = JSON.parse((await runThv(['status', name, '--format', 'json'], home)).stdout) as Record<string, unknown>;
  const client = await connectClient(url);
  const call = async (tool: string, args: Record<string, unknown>) => textOf(await client.callTool({ name: tool, arguments: args }));
  return { run, status, client, call };
}

describe.skipIf(skipReason)('a server in the sandbox (default) versus unconfined (--isolation none)', () => {
  for (const mode of ['sandbox', 'none'] as const) {
    const confined = mode === 'sandbox';
    it(`${mode}: files, /proc, secrets, network`, async () => {
      const { run, status, client, call } = await runProbe(`probe-${mode}`, confined ? [] : ['--isolation', 'none']);
      try {
        // What is in force is visible.
        expect(status.runtime).toBe(mode);
        expect(String(status.isolation)).toMatch(confined ? /^sandbox \(bubblewrap/ : /^none/);
        expect(status.permission_profile).toMatchObject({ read: [readDir], write: [writeDir] });
        if (!confined) expect(run.stderr).toMatch(/runs unconfined/);
        else expect(run.stderr).toBe('');

        const expectDenied = (text: string) => (confined ? expect(text).toMatch(/^ERROR/) : expect(text).toMatch(/^OK/));

        // The user's private key and thv's secrets store.
        expectDenied(await call('read_file', { path: join(home.root, '.ssh', 'id_rsa') }));
        expectDenied(await call('read_file', { path: join(home.root, 'data', 'toolhive', 'secrets_encrypted') }));
        // The supervisor's environment (its pid is the status's process_id).
        const environ = await call('read_file', { path: `/proc/${status.process_id}/environ` });
        expectDenied(environ);
        // Scrubbed whatever the isolation: the supervisor never holds the store's password or tokens.
        expect(environ).not.toContain(PASSWORD);
        expect(environ).not.toContain('ghp_supervisor_must_not_keep_this');

        // Writes outside the write paths, and into a read path.
        // (The sandbox may let the write land in its own private /tmp: what counts is the host file.)
        const outside = join(home.root, `planted-by-${mode}.txt`);
        const wrote = await call('write_file', { path: outside, content: 'x' });
        if (!confined) expect(wrote).toBe('OK');
        expect(existsSync(outside)).toBe(!confined);
        // The server's own project folder (mounted so the script can run) is read-only.
        const inRepo = join(import.meta.dirname, `planted-by-${mode}.txt`);
        try {
          expectDenied(await call('write_file', { path: inRepo, content: 'x' }));
          expect(existsSync(inRepo)).toBe(!confined);
        } finally {
          await rm(inRepo, { force: true });
        }
        expectDenied(await call('write_file', { path: join(readDir, `new-${mode}.txt`), content: 'x' }));
        // A read path is readable, a write path writable, in both.
        expect(await call('read_file', { path: join(readDir, 'data.txt') })).toBe('OK readable data');
        expect(await call('write_file', { path: join(writeDir, `out-${mode}.txt`), content: mode })).toBe('OK');
        expect(await readFile(join(writeDir, `out-${mode}.txt`), 'utf8')).toBe(mode);

        // Network: the allowed host (by name and port) works through the proxy.
        expect(await call('http_get', { url: `http://localhost:${allowed.port}/allowed` })).toBe('HTTP 200 target says hi');
        expect(allowed.hits).toContain('GET /allowed');
        // Any other host is refused without a connection being made.
        const refused = await call('http_get', { url: `http://127.0.0.1:${other.port}/other?token=t0ps3cret` });
        if (confined) {
          expect(refused).toMatch(/^(ERROR|HTTP 403)/);
          expect(other.hits).toEqual([]);
          const log = (await runThv(['logs', `probe-${mode}`], home)).stdout;
          expect(log).toMatch(new RegExp(`egress proxy refused a connection.*host=127\\.0\\.0\\.1 port=${other.port}`));
          // Host and port only: never the path or query.
          expect(log).not.toContain('t0ps3cret');
        } else {
          expect(refused).toBe('HTTP 200 target says hi');
          expect(other.hits).toContain('GET /other?token=t0ps3cret');
        }
        // A client that ignores the proxy has no route at all, even to the allowed host.
        const direct = await call('connect_direct', { host: '127.0.0.1', port: allowed.port });
        expectDenied(direct);
      } finally {
        await client.close();
        await runThv(['rm', `probe-${mode}`], home);
      }
    }, 120_000);
  }

  for (const mode of ['sandbox', 'none'] as const) {
    it(`${mode}: the network profile reaches any host but never thv itself`, async () => {
      const name = `net-${mode}`;
      const run = await runThv(['run', '--name', name, '--permission-profile', 'network', ...(mode === 'none' ? ['--isolation', 'none'] : []), '--', 'node', PROBE], home, { env: env(), timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      const url = /(http:\/\/127\.0\.0\.1:(\d+)\/mcp)/.exec(run.stdout)!;
      const client = await connectClient(url[1]!);
      try {
        const get = async (target: string) => textOf(await client.callTool({ name: 'http_get', arguments: { url: target } }));
        // insecure_allow_all: even a loopback address not named in the profile.
        expect(await get(`http://127.0.0.1:${other.port}/any`)).toBe('HTTP 200 target says hi');
        // The workload's own endpoint (thv's bridge) is refused in the sandbox, whatever the profile.
        const own = await get(`http://127.0.0.1:${url[2]}/health`);
        if (mode === 'sandbox') {
          expect(own).toMatch(/^(ERROR|HTTP 403)/);
          expect((await runThv(['logs', name], home)).stdout).toContain(`thv's own endpoints are never reachable`);
        } else {
          expect(own).toMatch(/^HTTP 200/);
        }
      } finally {
        await client.close();
        await runThv(['rm', name], home);
      }
    }, 120_000);
  }

  it('an npm server (@modelcontextprotocol/server-filesystem), installed outside the sandbox, works with a granted folder and nothing else', async () => {
    const granted = join(home.root, 'fs-granted');
    await mkdir(granted);
    await writeFile(join(granted, 'hello.txt'), 'hello from the granted folder');
    const profile = join(home.root, 'fs-profile.json');
    await writeFile(profile, JSON.stringify({ write: [granted] }));
    const pkg = `@modelcontextprotocol/server-filesystem@${JSON.parse(await readFile(resolve(import.meta.dirname, '../../node_modules/@modelcontextprotocol/server-filesystem/package.json'), 'utf8')).version}`;
    // Installed by the supervisor before the sandbox starts; from the npm cache `npm ci` filled.
    const run = await runThv(['run', `npx://${pkg}`, '--name', 'fs', '--permission-profile', profile, '--', granted], home, {
      env: { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/root', '.npm') },
      timeoutMs: 180_000,
    });
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse((await runThv(['status', 'fs', '--format', 'json'], home)).stdout) as Record<string, unknown>;
    expect(status.runtime).toBe('sandbox');
    const client = await connectClient(workloadUrlIn(run.stdout));
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('read_text_file');
      expect(textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(granted, 'hello.txt') } }))).toContain('hello from the granted folder');
      await client.callTool({ name: 'write_file', arguments: { path: join(granted, 'written.txt'), content: 'via the bridge' } });
      expect(await readFile(join(granted, 'written.txt'), 'utf8')).toBe('via the bridge');
    } finally {
      await client.close();
      await runThv(['rm', 'fs'], home);
    }
  }, 240_000);
});

describe.skipIf(skipReason)('a PyPI server (uvx://) in the sandbox', () => {
  it('is installed outside the sandbox from a real local index (uv, else python3 -m venv + pip), then runs with the none profile and reaches nothing else', async () => {
    const index = await startPypiIndex(home.root);
    try {
      // Both installers read the index from the environment; nothing here reaches beyond 127.0.0.1.
      const indexEnv = { PIP_INDEX_URL: index.url, UV_INDEX_URL: index.url, UV_DEFAULT_INDEX: index.url, PIP_DISABLE_PIP_VERSION_CHECK: '1' };
      const run = await runThv(['run', 'uvx://thv-probe-server@0.1.0', '--name', 'py'], home, { env: { ...env(), ...indexEnv }, timeoutMs: 180_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(index.requests).toContain(`/files/${WHEEL}`);
      const status = JSON.parse((await runThv(['status', 'py', '--format', 'json'], home)).stdout) as Record<string, unknown>;
      expect(status.runtime).toBe('sandbox');
      expect(String(status.isolation)).toMatch(/^sandbox \(bubblewrap.*profile none/);
      const client = await connectClient(workloadUrlIn(run.stdout));
      try {
        expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['read_file']);
        const read = async (path: string) => textOf(await client.callTool({ name: 'read_file', arguments: { path } }));
        // Its own installed files are there (read-only), the user's key and thv's store are not.
        expect(await read('/etc/passwd')).toMatch(/^OK root:/);
        expect(await read(join(home.root, '.ssh', 'id_rsa'))).toMatch(/^ERROR/);
        expect(await read(join(home.root, 'data', 'toolhive', 'secrets_encrypted'))).toMatch(/^ERROR/);
      } finally {
        await client.close();
        await runThv(['rm', 'py'], home);
      }
    } finally {
      await index.close();
    }
  }, 240_000);
});

describe.skipIf(skipReason)('sandbox limits (TOOLHIVE_SANDBOX_MEMORY)', () => {
  for (const limited of [true, false]) {
    it(`${limited ? 'over its memory limit a server dies, and the log says so' : 'without a limit the same server lives'}`, async () => {
      const name = `mem-${limited ? 'limited' : 'free'}`;
      const run = await runThv(['run', '--name', name, '--', 'node', PROBE], home, { env: { ...env(), ...(limited ? { TOOLHIVE_SANDBOX_MEMORY: '128m' } : {}) }, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      const client = await connectClient(workloadUrlIn(run.stdout));
      try {
        const answer = await client.callTool({ name: 'allocate', arguments: { mb: 200 } }).then(textOf, (err: Error) => `FAILED ${err.message}`);
        const log = async () => (await runThv(['logs', name], home)).stdout;
        if (limited) {
          expect(answer).not.toMatch(/^OK/);
          expect(await log()).toContain('sandbox limits: memory 128 MiB per process');
          // The supervisor reports the death (and restarts the server); Node's own last words are there too.
          await expect.poll(log, { timeout: 30_000 }).toMatch(/MCP server process (exited with code|killed by)/);
          expect(await log()).toMatch(/out of memory/i);
        } else {
          expect(answer).toBe('OK 200 MiB kept');
          expect(await log()).not.toMatch(/MCP server process (exited with code|killed by)/);
        }
      } finally {
        await client.close().catch(() => undefined);
        await runThv(['rm', name], home);
      }
    }, 120_000);
  }
});

describe.skipIf(skipReason)('where the sandbox cannot work', () => {
  it.each([
    ['bwrap is missing', '/nonexistent/bwrap', /bubblewrap \(bwrap\) is not installed/],
    ['bwrap cannot create namespaces', '/bin/false', /bubblewrap cannot create a sandbox here/],
  ])('%s: thv run refuses with the reason and the way out, and writes nothing', async (_what, bwrap, reason) => {
    const run = await runThv(['run', '--name', 'nosandbox', '--', 'node', PROBE], home, { env: { ...env(), TOOLHIVE_BWRAP: bwrap } });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(reason);
    expect(run.stderr).toContain('--isolation none');
    expect(existsSync(join(home.root, 'state', 'toolhive', 'runconfigs', 'nosandbox.json'))).toBe(false);
    // The opt-out runs it, unconfined, and says so in the output and the status.
    const unconfined = await runThv(['run', '--name', 'nosandbox', '--isolation', 'none', '--', 'node', PROBE], home, { env: { ...env(), TOOLHIVE_BWRAP: bwrap } });
    expect(unconfined.code, unconfined.stderr).toBe(0);
    expect(unconfined.stderr).toMatch(/Warning: "nosandbox" runs unconfined/);
    const status = await runThv(['status', 'nosandbox'], home);
    expect(status.stdout).toMatch(/Isolation:\s+none \(host process, unconfined\)/);
    await runThv(['rm', 'nosandbox'], home);
  }, 60_000);
});
