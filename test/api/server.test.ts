import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THV_VERSION } from '../../src/core/version.js';
import { registeredRoutes } from '../../src/api/openapi.js';
import { openApiProblems } from './openapi-structure.js';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

describe('thv serve: the basics over HTTP', () => {
  it('GET /health answers 204 with no body', async () => {
    const res = await api.send('/health');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
  });

  it('GET /api/v1beta/version reports the package version', async () => {
    const res = await api.send('/api/v1beta/version');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ version: THV_VERSION });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('an unknown route is a JSON 404 with code not_found', async () => {
    const res = await api.send('/api/v1beta/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json).toMatchObject({ code: 'not_found' });
  });
});

describe('DNS-rebinding defence: only the bound loopback names are accepted', () => {
  it('a request with Host: evil.example gets 403 forbidden, even on /health', async () => {
    for (const path of ['/health', '/api/v1beta/version', '/api/v1beta/registry', '/no-such-route']) {
      const res = await api.send(path, { headers: { host: `evil.example:${api.server.port}` } });
      expect(res.status, path).toBe(403);
      expect(res.json).toMatchObject({ code: 'forbidden' });
    }
    const bare = await api.send('/health', { headers: { host: 'evil.example' } });
    expect(bare.status).toBe(403);
  });

  it('localhost, 127.0.0.1 and [::1] with or without the port are accepted', async () => {
    const port = api.server.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, '127.0.0.1', 'localhost', '[::1]', `LOCALHOST:${port}`]) {
      const res = await api.send('/health', { headers: { host } });
      expect(res.status, host).toBe(204);
    }
  });

  it('a loopback name with another port is refused', async () => {
    const res = await api.send('/health', { headers: { host: `127.0.0.1:${api.server.port + 1}` } });
    expect(res.status).toBe(403);
  });

  it('a state-changing request from a rebinding page is refused before it reaches the handler', async () => {
    const res = await api.send('/api/v1beta/registry/default', {
      method: 'PUT',
      headers: { host: 'evil.example' },
      body: { url: 'https://attacker.example/registry.json' },
    });
    expect(res.status).toBe(403);
    const info = await api.send('/api/v1beta/registry');
    expect(info.json).toMatchObject({ registries: [{ type: 'default' }] });
  });
});

describe('request bodies', () => {
  it('a body over 1 MB is refused with 413 payload_too_large', async () => {
    const big = JSON.stringify({ url: `https://example.com/${'a'.repeat(1024 * 1024)}` });
    const res = await api.send('/api/v1beta/registry/default', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      rawBody: big,
    });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 'payload_too_large' });
  });

  it('malformed JSON is a 400 bad_request', async () => {
    const res = await api.send('/api/v1beta/registry/default', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      rawBody: '{"url": ',
    });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ code: 'bad_request', message: 'request body is not valid JSON' });
  });

  it('a body that breaks the schema is a 400 bad_request naming the field', async () => {
    const res = await api.send('/api/v1beta/registry/default', {
      method: 'PUT',
      body: { url: 'https://example.com/r.json', allow_private_ip: 'maybe' },
    });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ code: 'bad_request', message: 'body/allow_private_ip must be boolean' });
  });

  it('a misspelt field is refused, not dropped (an empty body would reset the registry)', async () => {
    const res = await api.send('/api/v1beta/registry/default', { method: 'PUT', body: { ur: 'https://example.com/r.json' } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'bad_request' });
  });
});

describe('bodies are validated without type coercion', () => {
  it('{"name": ["a"]} does not create the group "a"; a string for a boolean is a 400', async () => {
    const res = await api.send('/api/v1beta/groups', { method: 'POST', body: { name: ['a'] } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'bad_request' });
    expect(JSON.stringify((await api.send('/api/v1beta/groups')).json)).not.toContain('"a"');
    const flag = await api.send('/api/v1beta/registry/default', { method: 'PUT', body: { allow_private_ip: 'true' } });
    expect(flag.status).toBe(400);
    // Query strings are text by nature and still coerced.
    expect((await api.send('/api/v1beta/workloads?all=true')).status).toBe(200);
  });
});

describe('request logs', () => {
  it('log method, path and status but never headers or credential-looking query values', async () => {
    const before = api.logLines.length;
    await api.send('/api/v1beta/version?access_token=SECRET-QUERY-TOKEN', { headers: { cookie: 'session=SECRET-COOKIE' } });
    await api.send('/api/v1beta/version', { headers: { authorization: 'Bearer SECRET-WRONG-TOKEN-0123456789' } });
    const lines = api.logLines.slice(before).join('');
    expect(lines).toContain('/api/v1beta/version');
    expect(lines).toContain('"status":200');
    expect(lines).toContain('"status":401');
    expect(lines).not.toContain('SECRET');
    expect(lines).not.toContain(api.server.token!);
  });
});

describe('the OpenAPI document', () => {
  it('is served at /api/openapi.json, is OpenAPI 3 and passes the structural check', async () => {
    const res = await api.send('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json as { openapi: string };
    expect(doc.openapi).toMatch(/^3\./);
    expect(openApiProblems(doc)).toEqual([]);
  });

  it('lists every route the server registered, with the method', async () => {
    const doc = (await api.send('/api/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const routes = registeredRoutes(api.server.app).filter((r) => !r.hidden);
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      expect(doc.paths[path], `${route.method} ${route.url}`).toBeDefined();
      expect(doc.paths[path]![route.method.toLowerCase()], `${route.method} ${route.url}`).toBeDefined();
    }
  });

  it('documents the routes of docs/api.md by name', async () => {
    const doc = (await api.send('/api/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const expected = [
      'get /health',
      'get /api/v1beta/version',
      'get /api/openapi.json',
      'get /api/v1beta/registry',
      'get /api/v1beta/registry/{name}',
      'put /api/v1beta/registry/{name}',
      'post /api/v1beta/registry/{name}/refresh',
      'get /api/v1beta/registry/{name}/servers',
      'get /api/v1beta/registry/{name}/servers/{serverName}',
      'post /api/v1beta/registry/auth/login',
      'get /api/v1beta/registry/auth/status',
      'post /api/v1beta/registry/auth/logout',
    ];
    for (const entry of expected) {
      const [method, path] = entry.split(' ') as [string, string];
      expect(doc.paths[path]?.[method], entry).toBeDefined();
    }
  });
});
