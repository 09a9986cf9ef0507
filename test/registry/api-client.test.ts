import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryApiClient, parseBaseUrl } from '../../src/registry/api-client.js';
import { RegistryHTTPError, ThvError } from '../../src/core/errors.js';
import { makeServers, startRegistryServer, type RegistryServer } from '../fixtures/registry-server.js';

describe('MCP Registry API client', () => {
  let registry: RegistryServer;
  beforeAll(async () => {
    registry = await startRegistryServer({ servers: makeServers(305), pageSize: 100 });
  });
  afterAll(() => registry.close());
  beforeEach(() => {
    registry.setFault({ kind: 'none' });
    registry.requests.length = 0;
  });

  it('follows nextCursor through every page with limit=100&version=latest', async () => {
    const progress: number[] = [];
    const client = new RegistryApiClient({ baseUrl: `${registry.url}/`, onProgress: (n) => progress.push(n) });
    const servers = await client.listServers();
    expect(servers).toHaveLength(305);
    expect(progress).toEqual([100, 200, 300, 305]);
    expect(registry.requests.map((r) => r.url)).toEqual([
      '/v0.1/servers?limit=100&version=latest',
      '/v0.1/servers?limit=100&version=latest&cursor=100',
      '/v0.1/servers?limit=100&version=latest&cursor=200',
      '/v0.1/servers?limit=100&version=latest&cursor=300',
    ]);
  });

  it('accepts next_cursor as well', async () => {
    const snake = await startRegistryServer({ servers: makeServers(150), pageSize: 100, snakeCaseCursor: true });
    try {
      expect(await new RegistryApiClient({ baseUrl: snake.url }).listServers()).toHaveLength(150);
    } finally {
      await snake.close();
    }
  });

  it('stops at the cap instead of following a registry that never ends', async () => {
    const client = new RegistryApiClient({ baseUrl: registry.url, maxServers: 150 });
    expect(await client.listServers()).toHaveLength(150);
    expect(registry.requests).toHaveLength(2);
  });

  it('URL-encodes the server name as one path segment', async () => {
    const client = new RegistryApiClient({ baseUrl: registry.url });
    const server = await client.getServer('io.example/server-00007');
    expect(server.name).toBe('io.example/server-00007');
    expect(registry.requests[0]!.url).toBe('/v0.1/servers/io.example%2Fserver-00007/versions/latest');
  });

  it('searches on the server with search=', async () => {
    const client = new RegistryApiClient({ baseUrl: registry.url });
    const found = await client.searchServers('server-0030');
    expect(found.map((s) => s.name)).toEqual([0, 1, 2, 3, 4].map((i) => `io.example/server-0030${i}`));
  });

  it('sends the headers it is given on every request', async () => {
    const client = new RegistryApiClient({ baseUrl: registry.url, headers: async () => ({ Authorization: 'Bearer abc' }) });
    await client.listServers();
    expect(registry.requests.every((r) => r.authorization === 'Bearer abc')).toBe(true);
  });

  it('turns a 403 HTML page into an unauthorized RegistryHTTPError whose body is cut at 4 KiB', async () => {
    registry.setFault({ kind: 'html', status: 403 });
    const err = await new RegistryApiClient({ baseUrl: registry.url }).listServers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryHTTPError);
    const httpErr = err as RegistryHTTPError;
    expect(httpErr.status).toBe(403);
    expect(httpErr.isUnauthorized).toBe(true);
    expect(httpErr.code).toBe('registry_auth_required');
    expect(Buffer.byteLength(httpErr.body)).toBe(4096);
    expect(httpErr.message).toBe(`registry ${registry.url}/v0.1/servers?limit=100&version=latest answered HTTP 403 (an HTML page)`);
  });

  it('a 503 is a RegistryHTTPError that is not unauthorized', async () => {
    registry.setFault({ kind: 'status', status: 503 });
    const err = (await new RegistryApiClient({ baseUrl: registry.url }).listServers().catch((e: unknown) => e)) as RegistryHTTPError;
    expect(err.status).toBe(503);
    expect(err.isUnauthorized).toBe(false);
    expect(err.code).toBe('registry_unavailable');
  });

  it('refuses an oversize success body without reading it all', async () => {
    registry.setFault({ kind: 'oversize', bytes: 8 * 1024 * 1024 });
    const err = await new RegistryApiClient({ baseUrl: registry.url, maxBodyBytes: 1024 * 1024 }).listServers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThvError);
    expect((err as ThvError).code).toBe('registry_invalid_response');
    expect((err as ThvError).message).toContain('larger than the 1 MiB limit');
  });

  it('reports malformed JSON as an invalid response', async () => {
    registry.setFault({ kind: 'malformed' });
    const err = (await new RegistryApiClient({ baseUrl: registry.url }).listServers().catch((e: unknown) => e)) as ThvError;
    expect(err.code).toBe('registry_invalid_response');
    expect(err.message).toMatch(/the body is not JSON/);
  });

  it.each(['', '   ', 'not a url', 'ftp://example.com'])('a base URL of %j is a configuration error, not a crash', (raw) => {
    expect(() => parseBaseUrl(raw)).toThrow(ThvError);
    try {
      parseBaseUrl(raw);
    } catch (err) {
      expect((err as ThvError).code).toBe('config_invalid');
    }
  });
});
