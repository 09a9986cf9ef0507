import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFile, readdir, stat, utimes, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { makeServers, startRegistryServer, type RegistryServer } from '../fixtures/registry-server.js';

/** Team-written registry files; ToolHive's own are run through the CLI by test/compat/cli.test.ts. */
const FIXTURES = join(import.meta.dirname, '../fixtures/registry');
const AUTH_MESSAGE =
  'Error: failed to list servers: registry authentication required: Run `thv registry login` to authenticate.';

let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await home.cleanup();
});

describe('the embedded catalog', () => {
  it('lists more than 100 servers offline on a fresh install', async () => {
    const result = await runThv(['registry', 'list'], home);
    expect(result.code).toBe(0);
    const rows = result.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+KIND\s+TRANSPORT\s+TIER\s+STARS\s+DESCRIPTION/);
    expect(rows.length - 1).toBeGreaterThan(100);
    expect(result.stdout).toContain('io.github.stacklok/fetch');
    expect(result.stderr).toBe('');
  });

  it('prints stable JSON with every server, remotes included', async () => {
    const result = await runThv(['registry', 'list', '--format', 'json'], home);
    const servers = JSON.parse(result.stdout) as Array<{ name: string; url?: string; packages?: unknown[] }>;
    expect(servers).toHaveLength(104);
    expect(servers.filter((s) => s.url)).toHaveLength(23);
    expect(servers.filter((s) => s.packages)).toHaveLength(43);
  });

  it('shows one server by short name, and lists the candidates for an ambiguous one', async () => {
    const info = await runThv(['registry', 'info', 'github'], home);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/Name:\s+io\.github\.stacklok\/github\n/);
    const missing = await runThv(['registry', 'info', 'no-such-server'], home);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('server `no-such-server` was not found');
  });
});

describe('an MCP Registry API registry with several pages', () => {
  let registry: RegistryServer;
  beforeAll(async () => {
    registry = await startRegistryServer({
      servers: [...makeServers(250), ...makeServers(1, 'io.other')],
      pageSize: 100,
    });
  });
  afterAll(() => registry.close());
  beforeEach(() => registry.setFault({ kind: 'none' }));

  const useRegistry = async () => {
    const set = await runThv(['config', 'set-registry', registry.url, '--allow-private-ip'], home);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('(api)');
  };

  it('lists every server across pages, and finds servers by full name, short name and tag', async () => {
    await useRegistry();
    const list = await runThv(['registry', 'list', '--format', 'json'], home);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(251);

    const full = await runThv(['registry', 'info', 'io.example/server-00042', '--format', 'json'], home);
    expect(JSON.parse(full.stdout).name).toBe('io.example/server-00042');
    const short = await runThv(['registry', 'info', 'server-00043', '--format', 'json'], home);
    expect(JSON.parse(short.stdout).name).toBe('io.example/server-00043');

    const byTag = await runThv(['search', 'sevens', '--format', 'json'], home);
    const names = (JSON.parse(byTag.stdout) as Array<{ name: string }>).map((s) => s.name);
    expect(names).toHaveLength(37); // 36 multiples of 7 below 250, plus io.other/server-00000
    expect(names).toContain('io.example/server-00007');
  });

  it('an ambiguous short name is an error that lists the candidates', async () => {
    await useRegistry();
    const ambiguous = await runThv(['registry', 'info', 'server-00000'], home);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('io.example/server-00000');
    expect(ambiguous.stderr).toContain('io.other/server-00000');
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 } as const, /HTTP 500/],
    ['a reset connection', { kind: 'reset' } as const, /connection|closed|terminated|socket/i],
  ])('after a good list, %s gives the cached servers with a warning naming registry, error and age', async (_n, fault, error) => {
    await useRegistry();
    expect((await runThv(['registry', 'list'], home)).code).toBe(0);
    registry.setFault(fault);
    const stale = await runThv(['registry', 'list', '--refresh'], home);
    expect(stale.code).toBe(0);
    expect(stale.stdout).toContain('io.example/server-00249');
    expect(stale.stderr).toContain(`Warning: registry ${registry.url} is unavailable`);
    expect(stale.stderr).toMatch(error);
    expect(stale.stderr).toMatch(/cached data from \d+ seconds? ago/);
  });

  it('with nothing cached, a refused connection is an "unavailable" error (exit 5)', async () => {
    const dead = await startRegistryServer({ servers: [] });
    await runThv(['config', 'set-registry', dead.url, '--allow-private-ip'], home);
    await dead.close();
    const result = await runThv(['registry', 'list'], home);
    expect(result.code).toBe(5);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Error: failed to list servers: registry http:\/\/127\.0\.0\.1:\d+ is unreachable: connection refused/);
  });

  it.each([401, 403])('after a good list, a %i prints no server, the auth-required message, exit 3 — also from the disk cache alone', async (status) => {
    await useRegistry();
    expect((await runThv(['registry', 'list'], home)).code).toBe(0);
    registry.setFault(status === 403 ? { kind: 'html', status } : { kind: 'status', status });
    // Each run is a fresh process: the in-memory cache is empty and the disk cache is warm.
    const denied = await runThv(['registry', 'list', '--refresh'], home);
    expect(denied.code).toBe(3);
    expect(denied.stdout).toBe('');
    expect(denied.stderr.split('\n')[0]).toBe(AUTH_MESSAGE);
    // The refused data is not kept to be shown "fresh" by the next command either.
    expect(await readdir(join(home.root, 'cache/toolhive/cache'))).toHaveLength(0);
    const next = await runThv(['registry', 'list'], home);
    expect(next.code).toBe(3);
    expect(next.stdout).toBe('');
  });

  it('a malformed or oversize reply never replaces a good cache', async () => {
    await useRegistry();
    expect((await runThv(['registry', 'list'], home)).code).toBe(0);
    const cacheDir = join(home.root, 'cache/toolhive/cache');
    const [cacheName] = await readdir(cacheDir);
    const cacheFile = join(cacheDir, cacheName!);
    const before = await readFile(cacheFile, 'utf8');
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);

    registry.setFault({ kind: 'malformed' });
    const malformed = await runThv(['registry', 'list', '--refresh'], home);
    expect(malformed.code).toBe(0);
    expect(malformed.stderr).toMatch(/invalid response: the body is not JSON/);
    expect(malformed.stderr).not.toMatch(/\n\s+at /);

    registry.setFault({ kind: 'oversize', bytes: 40 * 1024 * 1024 });
    const oversize = await runThv(['registry', 'list', '--refresh'], home);
    expect(oversize.code).toBe(0);
    expect(oversize.stderr).toMatch(/larger than the 16 MiB limit/);
    expect(await readFile(cacheFile, 'utf8')).toBe(before);
  });

  it('a corrupt or week-old disk cache is discarded and fetched again', async () => {
    await useRegistry();
    expect((await runThv(['registry', 'list'], home)).code).toBe(0);
    const cacheDir = join(home.root, 'cache/toolhive/cache');
    const cacheFile = join(cacheDir, (await readdir(cacheDir))[0]!);
    await writeFile(cacheFile, '{"format":1,"catalog":{"servers":[tru');
    const before = registry.requests.length;
    const afterCorrupt = await runThv(['registry', 'list', '--format', 'json'], home);
    expect(afterCorrupt.code).toBe(0);
    expect(JSON.parse(afterCorrupt.stdout)).toHaveLength(251);
    expect(registry.requests.length).toBeGreaterThan(before);

    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    await utimes(cacheFile, eightDaysAgo, eightDaysAgo);
    registry.setFault({ kind: 'status', status: 503 });
    const old = await runThv(['registry', 'list'], home);
    expect(old.code).toBe(5);
    expect(old.stdout).toBe('');
  });

  it('a fresh disk cache answers without contacting the registry', async () => {
    await useRegistry();
    expect((await runThv(['registry', 'list'], home)).code).toBe(0);
    const before = registry.requests.length;
    expect((await runThv(['registry', 'list'], home)).code).toBe(0);
    expect(registry.requests.length).toBe(before);
  });
});

describe('registry files', () => {
  it('a legacy-format file is refused with the convert hint, and lists after convert --in-place', async () => {
    const file = join(home.root, 'legacy.json');
    await copyFile(join(FIXTURES, 'legacy-registry.json'), file);
    const set = await runThv(['config', 'set-registry', file], home);
    expect(set.code).not.toBe(0);
    expect(set.stderr).toContain(`Run \`thv registry convert --in ${file} --in-place\``);

    const convert = await runThv(['registry', 'convert', '--in', file, '--in-place'], home);
    expect(convert.code).toBe(0);
    expect((await runThv(['config', 'set-registry', file], home)).code).toBe(0);
    const list = await runThv(['registry', 'list', '--format', 'json'], home);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(6);
  });

  it('a file whose JSON is malformed gives a clear error without a stack trace', async () => {
    const file = join(home.root, 'broken.json');
    await writeFile(file, '{"data": {"servers": [');
    const set = await runThv(['config', 'set-registry', file], home);
    expect(set.code).toBe(5);
    expect(set.stderr).toMatch(/^Error: failed to set the registry: registry .*broken\.json is not valid JSON/);
    expect(set.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('set-registry checks what it is given before storing it', () => {
  it('refuses other URL schemes, missing files, a .json URL that is not there, and a legacy .json document', async () => {
    const ftp = await runThv(['config', 'set-registry', 'ftp://example.com/registry.json'], home);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain('is neither an http(s) URL nor a file path');

    const missing = await runThv(['config', 'set-registry', join(home.root, 'nope.json')], home);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('Give the path of a registry JSON file, or a registry URL.');

    const legacy = JSON.parse(await readFile(join(FIXTURES, 'legacy-registry.json'), 'utf8')) as unknown;
    const server = await startRegistryServer({ servers: [], document: legacy });
    try {
      const notThere = await runThv(['config', 'set-registry', `${server.url}/missing.json`, '--allow-private-ip'], home);
      expect(notThere.code).toBe(5);
      expect(notThere.stderr).toContain('HTTP 404');
      const old = await runThv(['config', 'set-registry', `${server.url}/registry.json`, '--allow-private-ip'], home);
      expect(old.code).toBe(1);
      expect(old.stderr).toContain('uses the legacy ToolHive format');
      expect((await runThv(['config', 'get-registry'], home)).stdout).toBe('Registry: embedded catalog (embedded)\n');
    } finally {
      await server.close();
    }
  });
});

describe('config', () => {
  it('a corrupt config file is reported with its path and never overwritten', async () => {
    const configFile = join(home.root, 'config/toolhive/config.yaml');
    await runThv(['config', 'set-registry', join(FIXTURES, 'example-registry.json')], home);
    await writeFile(configFile, 'registry_url: [unclosed\n');
    const list = await runThv(['registry', 'list'], home);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(`config file ${configFile} is not valid YAML`);
    expect(list.stderr).not.toMatch(/\n\s+at /);
    const set = await runThv(['config', 'unset-registry'], home);
    expect(set.code).toBe(1);
    expect(await readFile(configFile, 'utf8')).toBe('registry_url: [unclosed\n');
  });

  it('a wrongly typed key is named', async () => {
    const configFile = join(home.root, 'config/toolhive/config.yaml');
    await runThv(['config', 'unset-registry'], home);
    await writeFile(configFile, 'allow_private_registry_ip: "yes please"\n');
    const list = await runThv(['registry', 'list'], home);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain('key `allow_private_registry_ip`');
  });

  it('get-registry, set-registry to a file, and unset-registry round trip; config is 0600', async () => {
    const file = join(FIXTURES, 'example-registry.json');
    expect((await runThv(['config', 'set-registry', file], home)).code).toBe(0);
    expect((await runThv(['config', 'get-registry'], home)).stdout).toBe(`Registry: ${file} (file)\n`);
    const list = await runThv(['registry', 'list', '--format', 'json'], home);
    expect(JSON.parse(list.stdout)).toHaveLength(6);
    expect((await stat(join(home.root, 'config/toolhive/config.yaml'))).mode & 0o777).toBe(0o600);
    expect((await runThv(['config', 'unset-registry'], home)).code).toBe(0);
    expect((await runThv(['config', 'get-registry'], home)).stdout).toBe('Registry: embedded catalog (embedded)\n');
  });

  it('refuses a plain-http or loopback registry without --allow-private-ip', async () => {
    const result = await runThv(['config', 'set-registry', 'http://127.0.0.1:9/'], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--allow-private-ip');
  });
});

describe('progress', () => {
  it('on a terminal, fetching an API registry page by page shows progress on stderr', async () => {
    const { runThvInPty } = await import('../fixtures/pty.js');
    const registry = await startRegistryServer({ servers: makeServers(250), pageSize: 100 });
    try {
      expect((await runThv(['config', 'set-registry', registry.url, '--allow-private-ip'], home)).code).toBe(0);
      const session = runThvInPty(['registry', 'list', '--format', 'json'], home.env);
      const { code, output } = await session.exit;
      expect(code).toBe(0);
      expect(output).toContain('\rFetching registry… 100 servers');
      expect(output).toContain('\rFetching registry… 250 servers');
      // without a terminal there is no progress line
      const plain = await runThv(['registry', 'list', '--refresh', '--format', 'json'], home);
      expect(plain.stderr).toBe('');
    } finally {
      await registry.close();
    }
  });
});
