import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cliContext } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/program.js';
import { runFast } from '../../src/cli/fast.js';
import { quickRegistrySettings } from '../../src/config/quick.js';
import { resolvePaths } from '../../src/core/paths.js';
import { THV_BIN, makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { makeServers, startRegistryServer, type FixtureServer, type RegistryServer } from '../fixtures/registry-server.js';

// The start-up fast path (docs/architecture.md#start-up) must print exactly what the full CLI prints:
// each case runs both, in-process, on the same files, and compares stdout, stderr and exit code.

interface Result {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(() => home.cleanup());

async function full(argv: string[], columns = Number.POSITIVE_INFINITY, env = home.env): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const ctx = cliContext({ env, out: (t) => void (stdout += t), err: (t) => void (stderr += t), stdoutIsTTY: false, stderrIsTTY: false, stdinIsTTY: false, columns });
  const code = await runCli(argv, ctx);
  return { code, stdout, stderr };
}

async function fast(argv: string[], columns = Number.POSITIVE_INFINITY, env = home.env): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runFast(argv, { env, out: (d) => void (stdout += typeof d === 'string' ? d : Buffer.from(d).toString('utf8')), err: (t) => void (stderr += t), columns });
  return { code, stdout, stderr };
}

/** Both paths on the same state; the fast one must answer (not decline) and match. */
async function expectSame(argv: string[], columns?: number): Promise<Result> {
  const expected = await full(argv, columns);
  const actual = await fast(argv, columns);
  expect(actual.code, `${argv.join(' ')}: the fast path declined`).toBeDefined();
  expect(actual, argv.join(' ')).toEqual(expected);
  return actual;
}

const tricky: FixtureServer[] = [
  { name: 'io.example/multi-line', description: 'First line\n  second   line\twith tabs', version: '1.0.0', packages: [{ registryType: 'pypi', identifier: 'multi-line', version: '2.0.0', transport: { type: 'stdio' } }] },
  { name: 'io.example/unicode', description: 'Überprüft Dateien — schnell ✓ and a long tail '.repeat(8), version: '1.0.0', packages: [{ registryType: 'oci', identifier: 'ghcr.io/example/unicode:1', transport: { type: 'stdio' } }] },
  { name: 'io.example/remote', description: 'A remote one', version: '1.0.0', remotes: [{ type: 'streamable-http', url: 'https://mcp.example.com/mcp' }] },
  { name: 'io.example/no-description', version: '1.0.0', packages: [{ registryType: 'npm', identifier: 'no-description', version: '1.0.0', transport: { type: 'stdio' } }] },
];

describe('thv registry list', () => {
  let registry: RegistryServer;
  beforeAll(async () => {
    registry = await startRegistryServer({ servers: [...makeServers(40), ...tricky], pageSize: 15 });
  });
  afterAll(() => registry.close());

  beforeEach(async () => {
    expect((await full(['config', 'set-registry', registry.url, '--allow-private-ip'])).code).toBe(0);
    expect((await full(['registry', 'list'])).code).toBe(0);
  });

  it('prints the same table and JSON from a warm cache, to a pipe and to a terminal width, without asking the registry', async () => {
    const before = registry.requests.length;
    const table = await expectSame(['registry', 'list']);
    expect(table.stdout).toContain('io.example/unicode');
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME +KIND +TRANSPORT +TIER +STARS +DESCRIPTION$/);
    await expectSame(['registry', 'list', '--format', 'text']);
    await expectSame(['registry', 'list'], 80);
    await expectSame(['registry', 'list'], 30);
    const json = await expectSame(['registry', 'list', '--format', 'json']);
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(44);
    await expectSame(['registry', 'list', '--format=json'], 80);
    // The full path reads the same cache: neither went to the registry.
    expect(registry.requests.length).toBe(before);
  });

  it('declines what it cannot answer exactly, and has written nothing then', async () => {
    const paths = resolvePaths(home.env);
    const declined = async (argv: string[], env = home.env) => {
      const result = await fast(argv, Number.POSITIVE_INFINITY, env);
      expect(result, argv.join(' ')).toEqual({ code: undefined, stdout: '', stderr: '' });
    };
    await declined(['registry', 'list', '--refresh']);
    await declined(['registry', 'list', '--debug']);
    await declined(['registry', 'list', '--format', 'xml']);
    await declined(['registry', 'list', '--format', 'json', '--format', 'text']);
    await declined(['registry', 'info', 'io.example/remote']);
    await declined(['registry', 'list'], { ...home.env, TOOLHIVE_LOG_LEVEL: 'debug' });
    await declined(['registry', 'list'], { ...home.env, TOOLHIVE_NON_INTERACTIVE: 'maybe' });
    // A cache older than an hour is refreshed by the full path.
    const cacheDir = paths.cacheDir;
    const [cacheFile] = (await readdir(cacheDir)).filter((n) => n.startsWith('registry-'));
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(join(cacheDir, cacheFile!), old, old);
    await declined(['registry', 'list']);
    // A config it does not read for certain goes to the YAML parser and the schema.
    await writeFile(paths.configFile, `registry_url: ${registry.url} # a comment\nallow_private_registry_ip: true\n`);
    await declined(['registry', 'list']);
  });
});

describe('thv list', () => {
  let standIn: ChildProcess;
  beforeAll(() => {
    // A live process whose command line marks it as a supervisor, as bench/list.ts does.
    standIn = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', 'thv-test-supervisor'], { stdio: 'ignore' });
  });
  afterAll(() => {
    standIn.kill();
  });

  async function writeWorkload(name: string, status: string, pid: number, extra: Record<string, unknown> = {}): Promise<void> {
    const paths = resolvePaths(home.env);
    await mkdir(paths.runConfigsDir, { recursive: true });
    await mkdir(paths.statusesDir, { recursive: true });
    const now = new Date().toISOString();
    const config = {
      schema_version: 1, name, group: 'default', source: { kind: 'npx', ref: `npx://@example/${name}`, package: `@example/${name}` },
      command: 'npx', args: ['-y', `@example/${name}`], transport: 'stdio', proxy_mode: 'streamable-http', host: '127.0.0.1',
      port: 20_000, port_fixed: false, env: {}, secrets: [], headers: {}, created_at: now, runtime: 'none', ...extra,
    };
    await writeFile(join(paths.runConfigsDir, `${name}.json`), JSON.stringify(config), { mode: 0o600 });
    await writeFile(join(paths.statusesDir, `${name}.json`), JSON.stringify({ status, status_context: '', created_at: now, updated_at: now, process_id: pid }), { mode: 0o600 });
  }

  it('prints the same with no workloads, with and without --all, as text and JSON', async () => {
    for (const argv of [['list'], ['ls'], ['list', '--all'], ['list', '-a', '--format', 'json'], ['list', '--format=json']]) await expectSame(argv);
  });

  it('prints the same for running, stopped, dead and damaged workloads', async () => {
    await writeWorkload('alpha', 'running', standIn.pid!);
    await writeWorkload('beta', 'stopped', 0);
    await writeWorkload('gamma', 'running', 2 ** 22 + 12345, { transport: 'sse' });
    await writeWorkload('delta', 'running', standIn.pid!, { group: 'other', port: 20_001 });
    await writeFile(join(resolvePaths(home.env).runConfigsDir, 'broken.json'), '{not json');
    // The first listing reconciles the dead supervisor (a status write); both paths then see the same files.
    await full(['list']);
    for (const argv of [['list'], ['list', '--all'], ['list', '--format', 'json'], ['list', '--all', '--format', 'json']]) await expectSame(argv);
    await expectSame(['list', '--all'], 60);
    const listed = await fast(['list', '--all']);
    expect(listed.stdout).toMatch(/^alpha +@example\/alpha +running /m);
    expect(listed.stdout).toMatch(/^gamma .* error .*supervisor process \d+ is not running/m);
    expect(listed.stdout).toMatch(/^broken .* unknown /m);
  });

  it('declines flags it does not know', async () => {
    for (const argv of [['list', '--group', 'default'], ['list', '--all', '--all'], ['list', '--debug'], ['list', 'extra'], ['list', '-h']]) {
      expect(await fast(argv), argv.join(' ')).toEqual({ code: undefined, stdout: '', stderr: '' });
    }
  });
});

describe('the built CLI', () => {
  it('answers through bin/thv.js as the full CLI does in-process', async () => {
    const registry = await startRegistryServer({ servers: [...makeServers(5), ...tricky] });
    try {
      expect((await full(['config', 'set-registry', registry.url, '--allow-private-ip'])).code).toBe(0);
      const expected = await full(['registry', 'list']);
      const spawned = await runThv(['registry', 'list'], home);
      expect({ code: spawned.code, stdout: spawned.stdout, stderr: spawned.stderr }).toEqual(expected);
      const list = await runThv(['list', '--all'], home);
      expect({ code: list.code, stdout: list.stdout, stderr: list.stderr }).toEqual(await full(['list', '--all']));
    } finally {
      await registry.close();
    }
  });

  it('ends quietly with exit 0 when the reader of its output has gone (`thv list | true`)', async () => {
    const child = spawn(process.execPath, [THV_BIN, 'list', '--all'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('quickRegistrySettings', () => {
  it('reads what thv writes, exactly as the YAML parser does', () => {
    const configs = [
      { registry_url: 'https://registry.example.com/v0.1/servers' },
      { registry_api_url: 'http://127.0.0.1:8080', allow_private_registry_ip: true },
      { local_registry_path: '/home/me/registry.json', secrets: { provider_type: 'encrypted', setup_completed: true } },
      { registry_url: 'https://r.example.com', clients: { registered_clients: ['claude-code', 'vscode'] }, secrets: { provider_type: 'environment' } },
      { registry_url: 'https://r.example.com', clients: { registered_clients: [] } },
    ];
    for (const config of configs) {
      const text = stringify(config);
      const { registry_url, registry_api_url, local_registry_path } = config as Record<string, string | undefined>;
      const expected = Object.fromEntries(Object.entries({ registry_url, registry_api_url, local_registry_path }).filter(([, v]) => v !== undefined));
      expect(quickRegistrySettings(text), text).toEqual(expected);
    }
  });

  it('gives up on anything the YAML parser or the schema might read otherwise', () => {
    const texts = [
      'registry_url: "https://quoted.example.com"\n',
      "registry_url: 'https://quoted.example.com'\n",
      'registry_url: https://r.example.com # comment\n',
      'registry_url: 12345\n',
      'registry_url: true\n',
      'registry_url: null\n',
      'registry_url:\n',
      'registry_url: a\nregistry_url: b\n',
      'registry_url: https://r.example.com\nregistry_auth:\n  type: bearer\n',
      '{ registry_url: https://r.example.com }\n',
      'registry_url: https://r.example.com\nsomething_else: 1\n',
      'allow_private_registry_ip: yes\n',
      'secrets:\n  provider_type: vault\n',
      'registry_url: https://r.example.com\r\n',
      '---\nregistry_url: https://r.example.com\n',
      'registry_url: &anchor https://r.example.com\n',
      'registry_url: https://r.example.com/a path\n',
      '{}\n',
    ];
    for (const text of texts) expect(quickRegistrySettings(text), text).toBeUndefined();
  });
});
