import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/core/paths.js';
import { makeServers, startRegistryServer, type RegistryServer } from '../fixtures/registry-server.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { startTestApi, type TestApi } from './helpers.js';
import { manualClock } from './manual-clock.js';
import { freePort, isBindable, isConnectRefused } from '../fixtures/ports.js';

const R = '/api/v1beta/registry';
const TWO_HOURS = 2 * 60 * 60 * 1000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function registryFixture(options: Parameters<typeof startRegistryServer>[0]): Promise<RegistryServer> {
  const server = await startRegistryServer(options);
  cleanups.push(() => server.close());
  return server;
}

async function api(options: Parameters<typeof startTestApi>[0] = {}): Promise<TestApi> {
  const started = await startTestApi(options);
  cleanups.push(() => started.close());
  return started;
}

async function home(): Promise<TempHome> {
  const created = await makeTempHome();
  cleanups.push(() => created.cleanup());
  return created;
}

async function writeConfig(where: TempHome, config: Record<string, unknown>): Promise<void> {
  const file = resolvePaths(where.env).configFile;
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, stringify(config), { mode: 0o600 });
}

describe('an MCP Registry API behind the REST API', () => {
  it('answers from the registry, then serves stale data with stale: true after a transient failure', async () => {
    const registry = await registryFixture({ servers: makeServers(120), pageSize: 50 });
    const clock = manualClock();
    const server = await api({ deps: { clock } });

    const set = await server.send(`${R}/default`, { method: 'PUT', body: { api_url: registry.url, allow_private_ip: true } });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ type: 'api', auth_status: 'none', auth_type: '' });
    const fresh = await server.send(`${R}/default/servers`);
    expect(fresh.status).toBe(200);
    expect((fresh.json as { servers: unknown[] }).servers).toHaveLength(120);
    expect((fresh.json as { stale?: boolean }).stale).toBeUndefined();
    const fetchedAt = clock.now();

    registry.setFault({ kind: 'status', status: 503 });
    clock.advance(TWO_HOURS);
    const stale = await server.send(`${R}/default/servers`);
    expect(stale.status).toBe(200);
    const body = stale.json as { servers: unknown[]; stale: boolean; fetched_at: string; stale_reason: string };
    expect(body.servers).toHaveLength(120);
    expect(body.stale).toBe(true);
    // The time of the first answer (not before it; file times may be rounded to the second), not
    // the server's now, two hours later.
    expect(Date.parse(body.fetched_at)).toBeGreaterThanOrEqual(fetchedAt - 1_000);
    expect(Date.parse(body.fetched_at)).toBeLessThan(clock.now() - TWO_HOURS / 2);
    expect(body.stale_reason).toMatch(/503/);

    const one = await server.send(`${R}/default/servers/io.example%2Fserver-00007`);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ is_remote: false, server: { name: 'io.example/server-00007' }, stale: true });

    const refresh = await server.send(`${R}/default/refresh`, { method: 'POST' });
    expect(refresh.status).toBe(200);
    expect(refresh.json).toMatchObject({ server_count: 120, stale: true, fetched_at: body.fetched_at });

    const whole = await server.send(`${R}/default`);
    // ToolHive's shape: the catalog's servers keyed by name.
    expect(whole.json).toMatchObject({ stale: true, server_count: 120, registry: { servers: expect.objectContaining({ 'io.example/server-00007': expect.objectContaining({ name: 'io.example/server-00007' }) }) } });
  });

  it('with no usable cache a transient failure is a 503 registry_unavailable', async () => {
    const registry = await registryFixture({ servers: makeServers(3) });
    const server = await api();
    await server.send(`${R}/default`, { method: 'PUT', body: { api_url: registry.url, allow_private_ip: true } });
    registry.setFault({ kind: 'reset' });
    const res = await server.send(`${R}/default/servers`);
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ code: 'registry_unavailable' });
  });

  it('a 401 after a warm cache is a 503 registry_auth_required, never stale data', async () => {
    const registry = await registryFixture({ servers: makeServers(3) });
    const clock = manualClock();
    const server = await api({ deps: { clock } });
    await server.send(`${R}/default`, { method: 'PUT', body: { api_url: registry.url, allow_private_ip: true } });
    expect((await server.send(`${R}/default/servers`)).status).toBe(200);
    registry.setFault({ kind: 'status', status: 401 });
    clock.advance(TWO_HOURS);
    const res = await server.send(`${R}/default/servers`);
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ code: 'registry_auth_required' });
    expect(res.text).not.toContain('server-00001');
  });
});

describe('OAuth configured and no token', () => {
  it('lists the registry as configured, and the servers route fails fast with 503 without a browser or a callback port', async () => {
    const registry = await registryFixture({
      servers: makeServers(3),
      authorize: (req) => (req.headers.authorization ? undefined : { status: 401 }),
    });
    const where = await home();
    const callbackPort = await freePort();
    const deadIssuer = `http://127.0.0.1:${await freePort()}`;
    const marker = join(where.root, 'browser-ran');
    const browser = join(where.root, 'browser.sh');
    await writeFile(browser, `#!/bin/sh\necho "$1" >> '${marker}'\n`);
    await chmod(browser, 0o755);
    await writeConfig(where, {
      registry_api_url: registry.url,
      allow_private_registry_ip: true,
      registry_auth: { type: 'oauth', oauth: { issuer: deadIssuer, client_id: 'thv-api-test', audience: 'registry', callback_port: callbackPort } },
    });
    const server = await api({ home: where, env: { BROWSER: browser, TOOLHIVE_SECRETS_PASSWORD: 'correct horse battery staple' } });

    const list = await server.send(R);
    expect(list.status).toBe(200);
    expect(list.json).toEqual({
      registries: [
        {
          name: 'default',
          type: 'api',
          source: expect.any(String),
          auth_status: 'configured',
          auth_type: 'oauth',
          auth_config: { issuer: deadIssuer, client_id: 'thv-api-test', audience: 'registry' },
        },
      ],
    });

    const servers = await server.send(`${R}/default/servers`);
    expect(servers.status).toBe(503);
    expect(servers.json).toMatchObject({ code: 'registry_auth_required' });
    expect((servers.json as { message: string }).message).toContain('POST /api/v1beta/registry/auth/login');

    expect(await isConnectRefused(callbackPort)).toBe(true);
    expect(await isBindable(callbackPort)).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(registry.requests.some((r) => r.authorization !== undefined)).toBe(false);

    const status = await server.send(`${R}/auth/status`);
    expect(status.json).toEqual({ status: 'unauthenticated', auth_status: 'configured', auth_type: 'oauth' });
  });

  it('a login with no OAuth settings is a 400 that says what to configure', async () => {
    const server = await api();
    const res = await server.send(`${R}/auth/login`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'bad_request' });
    const status = await server.send(`${R}/auth/status`);
    expect(status.json).toEqual({ status: 'none', auth_status: 'none', auth_type: '' });
  });
});
