import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
