import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { resolvePaths } from '../../src/core/paths.js';
import { RegistryService } from '../../src/registry/service.js';
import { toApiError } from '../../src/api/errors.js';
import { registerWorkloadRoutes } from '../../src/api/routes/workloads.js';
import { registerGroupRoutes } from '../../src/api/routes/groups.js';
import { GroupService } from '../../src/workloads/group-service.js';
import { createWorkloadManager } from '../../src/workloads/service.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { STDIO_FIXTURE, connectClient, isAlive, pidsIn, textOf } from './helpers.js';

let home: TempHome;
let app: FastifyInstance;
let pidFile: string;

beforeEach(async () => {
  home = await makeTempHome();
  pidFile = join(home.root, 'pids');
  app = await buildApp();
});

async function buildApp(env: NodeJS.ProcessEnv = {}): Promise<FastifyInstance> {
  const paths = resolvePaths(home.env);
  const deps = { paths, env: { ...process.env, ...home.env, ...env }, registry: new RegistryService({ paths, env: home.env, interactive: false }) };
  const built = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false } } });
  built.setErrorHandler(async (err, _req, reply) => {
    const { status, body } = toApiError(err);
    return reply.status(status).send(body);
  });
  registerWorkloadRoutes(built, deps);
  registerGroupRoutes(built, deps);
  await built.ready();
  return built;
}

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
      payload: { name: 'api-echo', command: ['node', STDIO_FIXTURE], env_vars: { FIXTURE_PID_FILE: pidFile }, isolation: 'none' },
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

  it('POST /workloads answers a server that exits during start-up with workload_failed and the reason; the workload stays in error', async () => {
    await app.close();
    app = await buildApp({ TOOLHIVE_STARTUP_GRACE: '20s' });
    const script = "require('fs').appendFileSync(process.env.FIXTURE_PID_FILE, process.pid + '\\n'); console.error('boom: missing API key'); process.exit(3)";
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1beta/workloads',
      payload: { name: 'api-bad', command: ['node', '-e', script], env_vars: { FIXTURE_PID_FILE: pidFile }, isolation: 'none' },
    });
    expect(created.statusCode).toBe(500);
    expect(created.json()).toMatchObject({ code: 'workload_failed' });
    expect(created.json().message).toMatch(/^the MCP server exited with code 3 during start-up: boom: missing API key/);
    // the hint points an API client at the logs route, not at a CLI command
    expect(created.json().message).toContain('GET /api/v1beta/workloads/{name}/logs');
    expect(created.json().message).not.toContain('thv logs');
    const status = await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-bad/status' });
    expect(status.json()).toMatchObject({ status: 'error', status_context: expect.stringContaining('boom: missing API key') });
    expect((await app.inject({ method: 'DELETE', url: '/api/v1beta/workloads/api-bad' })).statusCode).toBe(204);
  });

  it('POST /workloads replaces a workload of the same name that is in error, and refuses one that is running', async () => {
    await app.close();
    app = await buildApp({ TOOLHIVE_STARTUP_GRACE: '20s' });
    const failing = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload: { name: 'api-retry', command: ['node', '-e', 'process.exit(3)'] } });
    expect(failing.statusCode).toBe(500);
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-retry/status' })).json()).toMatchObject({ status: 'error' });

    const payload = { name: 'api-retry', command: ['node', STDIO_FIXTURE], env_vars: { FIXTURE_PID_FILE: pidFile }, isolation: 'none' };
    const retried = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload });
    expect(retried.statusCode).toBe(201);
    const client = await connectClient((retried.json() as { url: string }).url);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'retried' } }))).toBe('retried');
    await client.close();

    const again = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'already_exists', message: expect.stringContaining('workload "api-retry" already exists') });
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

  it('the implicit default group has no created_at, so it does not change between requests', async () => {
    const defaultGroup = async () => ((await app.inject({ method: 'GET', url: '/api/v1beta/groups' })).json().groups as Array<Record<string, unknown>>).find((g) => g.name === 'default');
    const first = await defaultGroup();
    expect(first).toEqual({ name: 'default', registered_clients: [], workloads: [] });
    expect(await defaultGroup()).toEqual(first);
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/groups/default' })).json()).toEqual(first);
  });

  it('a missing group is a not_found that says how to list groups, and a duplicate says how to remove it', async () => {
    const missing = await app.inject({ method: 'DELETE', url: '/api/v1beta/groups/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toContain('thv group list');
    expect(missing.json().message).not.toContain('group create');
    await app.inject({ method: 'POST', url: '/api/v1beta/groups', payload: { name: 'dev' } });
    const duplicate = await app.inject({ method: 'POST', url: '/api/v1beta/groups', payload: { name: 'dev' } });
    expect(duplicate.json()).toMatchObject({ code: 'already_exists', message: expect.stringContaining('thv group rm dev') });
  });

  it('refusing to remove the default group with its workloads removes none of them', async () => {
    const created = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload: { name: 'keep', command: ['node', STDIO_FIXTURE], env_vars: { FIXTURE_PID_FILE: pidFile }, isolation: 'none' } });
    expect(created.statusCode).toBe(201);
    // Through the service: this test app does not coerce the query string's "true".
    const groups = new GroupService(createWorkloadManager({ paths: resolvePaths(home.env), env: { ...process.env, ...home.env }, interactive: false }));
    await expect(groups.remove('default', { withWorkloads: true })).rejects.toMatchObject({ code: 'bad_request' });
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/keep/status' })).json()).toMatchObject({ status: 'running' });
  });
});
