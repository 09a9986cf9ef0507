import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApi, type TestApi } from './helpers.js';

/** Team-written registry files (test/fixtures/registry/). */
const DATA = join(import.meta.dirname, '../fixtures/registry');
const R = '/api/v1beta/registry';

interface Info {
  name: string;
  type: string;
  source: string;
  auth_status: string;
  auth_type: string;
}

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});
afterEach(async () => {
  await api.send(`${R}/default`, { method: 'PUT' });
});

describe('registry routes on the embedded catalog', () => {
  it('GET /registry lists the one registry with its auth fields', async () => {
    const res = await api.send(R);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      registries: [{ name: 'default', type: 'default', source: '', auth_status: 'none', auth_type: '' }],
    });
  });

  it('GET /registry/default carries the info and the catalog', async () => {
    const res = await api.send(`${R}/default`);
    expect(res.status).toBe(200);
    const body = res.json as Info & { server_count: number; registry: { servers: Record<string, unknown>; remote_servers: Record<string, unknown>; last_updated: string }; stale?: boolean };
    expect(body).toMatchObject({ name: 'default', type: 'default', auth_status: 'none', auth_type: '' });
    expect(Object.keys(body.registry.servers).length).toBeGreaterThan(50);
    expect(body.registry.servers['io.github.stacklok/fetch']).toMatchObject({ name: 'io.github.stacklok/fetch' });
    expect(body.server_count).toBe(Object.keys(body.registry.servers).length + Object.keys(body.registry.remote_servers).length);
    expect(Object.keys(body.registry.remote_servers).length).toBeGreaterThan(0);
    expect(body.registry.last_updated).toBe('2026-11-30T00:00:00Z');
    expect(body.stale).toBeUndefined();
  });

  it('a registry other than default is a 404 not_found', async () => {
    for (const path of [`${R}/other`, `${R}/other/servers`, `${R}/other/servers/fetch`]) {
      const res = await api.send(path);
      expect(res.status, path).toBe(404);
      expect(res.json).toMatchObject({ code: 'not_found' });
    }
  });

  it('GET /servers lists local and remote servers with their catalog fields', async () => {
    const res = await api.send(`${R}/default/servers`);
    expect(res.status).toBe(200);
    const body = res.json as { servers: Array<Record<string, unknown>>; remote_servers: Array<Record<string, unknown>>; stale?: boolean };
    const fetch = body.servers.find((s) => s.name === 'io.github.stacklok/fetch');
    expect(fetch).toMatchObject({ name: 'io.github.stacklok/fetch', transport: expect.any(String), tools: expect.any(Array) });
    expect(body.remote_servers.every((s) => typeof s.url === 'string')).toBe(true);
    expect(body.stale).toBeUndefined();
  });

  it('GET /servers/{name} finds a server by short name, URL-encoded full name and raw full name', async () => {
    for (const name of ['fetch', 'io.github.stacklok%2Ffetch', 'io.github.stacklok/fetch']) {
      const res = await api.send(`${R}/default/servers/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.json, name).toMatchObject({ is_remote: false, server: { name: 'io.github.stacklok/fetch' } });
      expect((res.json as Record<string, unknown>).remote_server).toBeUndefined();
    }
  });

  it('a remote server comes back as remote_server with is_remote true', async () => {
    const res = await api.send(`${R}/default/servers/io.github.stacklok/github-remote`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ is_remote: true, remote_server: { name: 'io.github.stacklok/github-remote', url: expect.stringMatching(/^https:/) } });
  });

  it('an unknown server is a 404 not_found', async () => {
    const res = await api.send(`${R}/default/servers/io.github.stacklok/no-such-server`);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'not_found' });
  });

  it('POST /refresh fetches and reports the counts', async () => {
    const res = await api.send(`${R}/default/refresh`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ server_count: expect.any(Number), remote_server_count: expect.any(Number), last_updated: '2026-11-30T00:00:00Z' });
  });
});

describe('PUT /registry/default', () => {
  it('points the registry at a local file, and an empty body resets it to the embedded catalog', async () => {
    const set = await api.send(`${R}/default`, { method: 'PUT', body: { local_path: `${DATA}/example-registry.json` } });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ type: 'file', source: expect.stringContaining('example-registry.json') });
    const servers = (await api.send(`${R}/default/servers`)).json as { servers: unknown[] };
    expect(servers.servers).toHaveLength(4);

    const reset = await api.send(`${R}/default`, { method: 'PUT' });
    expect(reset.status).toBe(200);
    expect(reset.json).toMatchObject({ type: 'default', auth_status: 'none', auth_type: '' });
    const after = (await api.send(`${R}/default/servers`)).json as { servers: unknown[] };
    expect(after.servers.length).toBeGreaterThan(4);
  });

  it('an empty JSON object and an empty body sent as JSON also reset', async () => {
    for (const options of [{ body: {} }, { headers: { 'content-type': 'application/json' }, rawBody: '' }]) {
      await api.send(`${R}/default`, { method: 'PUT', body: { local_path: `${DATA}/example-registry.json` } });
      const res = await api.send(`${R}/default`, { method: 'PUT', ...options });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ type: 'default' });
    }
  });

  it('a legacy-format file is refused with 502 registry_legacy_format and the convert hint', async () => {
    const res = await api.send(`${R}/default`, { method: 'PUT', body: { local_path: `${DATA}/legacy-registry.json` } });
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ code: 'registry_legacy_format', message: expect.stringContaining('thv registry convert') });
    expect((await api.send(R)).json).toMatchObject({ registries: [{ type: 'default' }] });
  });

  it('two sources at once, or auth without a source, are 400 bad_request', async () => {
    const two = await api.send(`${R}/default`, { method: 'PUT', body: { url: 'https://a.example/r.json', local_path: '/tmp/r.json' } });
    expect(two.status).toBe(400);
    expect(two.json).toMatchObject({ code: 'bad_request' });
    const authOnly = await api.send(`${R}/default`, { method: 'PUT', body: { auth: { issuer: 'https://idp.example', client_id: 'c' } } });
    expect(authOnly.status).toBe(400);
    expect(authOnly.json).toMatchObject({ code: 'bad_request' });
  });

  it('a plain-http loopback registry without allow_private_ip is a 400 that says why', async () => {
    const res = await api.send(`${R}/default`, { method: 'PUT', body: { url: 'http://127.0.0.1:9/registry.json' } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'bad_request' });
  });
});

describe('PUT /registry/default with a hostile local_path', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'thv-regfile-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('/dev/zero and a FIFO are refused before a byte is read (400), and the server does not grow', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const before = process.memoryUsage().rss;
    for (const path of ['/dev/zero', fifo]) {
      const res = await api.send(`${R}/default`, { method: 'PUT', body: { local_path: path } });
      expect(res.status, path).toBe(400);
      expect(res.json).toMatchObject({ code: 'bad_request', message: expect.stringContaining('not a regular file') });
    }
    // The old code read /dev/zero until it had 1.2 GB; a refusal before reading costs nothing.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    expect((await api.send(R)).json).toMatchObject({ registries: [{ type: 'default' }] });
  });

  it('a file larger than the 64 MiB cap is refused by its size, without reading it', async () => {
    const big = join(dir, 'big.json');
    await writeFile(big, '');
    await truncate(big, 65 * 1024 * 1024); // sparse: nothing to read
    const res = await api.send(`${R}/default`, { method: 'PUT', body: { local_path: big } });
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ code: 'registry_invalid_response', message: expect.stringContaining('64 MiB limit') });
  });

  it('errors never quote the file: a file of random text, and /etc/shadow where the server can read it', async () => {
    const random = join(dir, 'random.txt');
    const secretText = `rnd${randomBytes(24).toString('hex')}`;
    await writeFile(random, `${secretText}\n${secretText}\n`);
    const files = [random];
    const shadow = await readFile('/etc/shadow', 'utf8').catch(() => undefined);
    if (shadow !== undefined) files.push('/etc/shadow');
    for (const path of files) {
      const res = await api.send(`${R}/default`, { method: 'PUT', body: { local_path: path } });
      expect(res.status, path).toBe(502);
      expect(res.json).toMatchObject({ code: 'registry_invalid_response' });
      const leaked = path === random ? [secretText.slice(0, 8)] : shadow!.split(/[\n:]/).filter((part) => part.length >= 4);
      for (const part of leaked) {
        expect(res.text).not.toContain(part);
        expect(api.logLines.join('\n')).not.toContain(part);
      }
    }
  });
});
