import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { resolvePaths } from '../../src/core/paths.js';
import { RegistryService } from '../../src/registry/service.js';
import { toApiError } from '../../src/api/errors.js';
import { registerWorkloadRoutes } from '../../src/api/routes/workloads.js';
import { registerGroupRoutes } from '../../src/api/routes/groups.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { STDIO_FIXTURE, connectClient, isAlive, pidsIn, textOf } from './helpers.js';

let home: TempHome;
let app: FastifyInstance;
let pidFile: string;

beforeEach(async () => {
  home = await makeTempHome();
  pidFile = join(home.root, 'pids');
  const paths = resolvePaths(home.env);
  const deps = { paths, env: { ...process.env, ...home.env }, registry: new RegistryService({ paths, env: home.env, interactive: false }) };
  app = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false } } });
  app.setErrorHandler(async (err, _req, reply) => {
    const { status, body } = toApiError(err);
    return reply.status(status).send(body);
  });
  registerWorkloadRoutes(app, deps);
  registerGroupRoutes(app, deps);
  await app.ready();
});

afterEach(async () => {
  const list = await app.inject({ method: 'GET', url: '/api/v1beta/workloads' });
  for (const w of list.json().workloads as Array<{ name: string }>) await app.inject({ method: 'POST', url: `/api/v1beta/workloads/${w.name}/stop` });
  await app.close();
  const alive = (await pidsIn(pidFile)).filter(isAlive);
  await home.cleanup();
  expect(alive).toEqual([]);
});

describe('the workload routes', () => {
  it('create, list, call, stop, restart and delete a workload like the CLI does', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1beta/workloads',
      payload: { name: 'api-echo', command: ['node', STDIO_FIXTURE], env_vars: { FIXTURE_PID_FILE: pidFile } },
    });
    expect(created.statusCode).toBe(201);
    const { url } = created.json() as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = await connectClient(url);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'api' } }))).toBe('api');
    await client.close();

    const list = await app.inject({ method: 'GET', url: '/api/v1beta/workloads' });
    expect(list.json().workloads).toEqual([expect.objectContaining({ name: 'api-echo', status: 'running', url })]);

    const stop = await app.inject({ method: 'POST', url: '/api/v1beta/workloads/api-echo/stop' });
    expect(stop.json()).toEqual({ was_running: true });
    expect((await pidsIn(pidFile)).filter(isAlive)).toEqual([]);
    const status = await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/status' });
    expect(status.json()).toEqual({ status: 'stopped', status_context: '' });

    const restart = await app.inject({ method: 'POST', url: '/api/v1beta/workloads/api-echo/restart' });
    expect(restart.statusCode).toBe(200);
    expect(restart.json().url).toBe(url);

    const logs = await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/logs' });
    expect(logs.body).toContain('MCP server process started');

    expect((await app.inject({ method: 'DELETE', url: '/api/v1beta/workloads/api-echo' })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo' })).statusCode).toBe(404);
  });

  it('maps service errors to the API error table', async () => {
    const missing = await app.inject({ method: 'POST', url: '/api/v1beta/workloads/nope/stop' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('not_found');
    const both = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload: { image: 'npx://x', url: 'http://127.0.0.1:1/mcp' } });
    expect(both.statusCode).toBe(400);
    const oci = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload: { image: 'apollo-mcp-server' } });
    expect(oci.statusCode).toBe(503);
    expect(oci.json().message).toContain('container runtime not available');
  });

  it('refuses a header value that cannot be sent with a bad_request, before anything is stored', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload: { name: 'ctl', url: 'http://127.0.0.1:1/mcp', headers: { 'X-A': 'a\u0001b' } } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'bad_request', message: expect.stringContaining('header "X-A"') });
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/ctl' })).statusCode).toBe(404);
  });
});

describe('the group routes', () => {
  it('create, list and delete groups', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/v1beta/groups', payload: { name: 'team' } })).statusCode).toBe(201);
    expect((await app.inject({ method: 'POST', url: '/api/v1beta/groups', payload: { name: 'team' } })).statusCode).toBe(409);
    const groups = await app.inject({ method: 'GET', url: '/api/v1beta/groups' });
    expect((groups.json().groups as Array<{ name: string }>).map((g) => g.name)).toEqual(['default', 'team']);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1beta/groups/team' })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/groups/team' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1beta/groups/default' })).statusCode).toBe(400);
  });
});
