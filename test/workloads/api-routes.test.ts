import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolvePaths } from '../../src/core/paths.js';
import { RegistryService } from '../../src/registry/service.js';
import { toApiError } from '../../src/api/errors.js';
import { registerWorkloadRoutes } from '../../src/api/routes/workloads.js';
import { routeDeps } from '../../src/api/deps.js';
import { registerGroupRoutes } from '../../src/api/routes/groups.js';
import { createAppServices } from '../../src/app/services.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { STDIO_FIXTURE, connectClient, isAlive, pidsIn, textOf, waitFor } from './helpers.js';

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
  const deps = routeDeps({ paths, env: { ...process.env, ...home.env, ...env }, registry: new RegistryService({ paths, env: home.env, interactive: false }) });
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
  it('runs a command in the sandbox by default with the permission profile given, and shows both (docs/isolation.md)', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1beta/workloads',
      payload: { name: 'api-sandboxed', command: ['node', STDIO_FIXTURE], permission_profile: { read: [home.root], network: { outbound: { allow_host: ['*.example.com'], allow_port: [443] } } } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const got = (await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-sandboxed' })).json() as Record<string, unknown>;
    expect(got.runtime).toBe('sandbox');
    expect(String(got.isolation)).toMatch(/^sandbox \(bubblewrap\), profile /);
    expect(got.permission_profile).toMatchObject({ read: [home.root], network: { outbound: { allow_host: ['.example.com'], allow_port: [443] } } });
    const client = await connectClient((created.json() as { url: string }).url);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'confined' } }))).toBe('confined');
    await client.close();
    for (const [payload, message] of [
      [{ name: 'bad1', command: ['node', STDIO_FIXTURE], permission_profile: 'everything' }, /permission_profile/],
      [{ name: 'bad2', command: ['node', STDIO_FIXTURE], permission_profile: { read: ['relative/path'] } }, /permission_profile: read .*not absolute/],
      [{ name: 'bad3', command: ['node', STDIO_FIXTURE], runtime: 'sandbox', isolation: 'none' }, /contradict/],
    ] as const) {
      const refused = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().message).toMatch(message);
    }
  });

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

    const config = await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo' });
    expect(config.json()).toMatchObject({ name: 'api-echo', group: 'default', command: ['node', STDIO_FIXTURE], env_vars: { FIXTURE_PID_FILE: pidFile }, transport: 'stdio' });
    const exported = await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/export' });
    expect(exported.json()).toMatchObject({ name: 'api-echo', cmd_args: ['node', STDIO_FIXTURE], env_vars: { FIXTURE_PID_FILE: pidFile }, secrets: [] });

    const stop = await app.inject({ method: 'POST', url: '/api/v1beta/workloads/api-echo/stop' });
    expect(stop.statusCode).toBe(202);
    expect((await pidsIn(pidFile)).filter(isAlive)).toEqual([]);
    const status = await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/status' });
    expect(status.json()).toEqual({ status: 'stopped', status_context: '' });

    const restart = await app.inject({ method: 'POST', url: '/api/v1beta/workloads/api-echo/restart' });
    expect(restart.statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/status' })).json()).toMatchObject({ status: 'running' });

    const bulkStop = await app.inject({ method: 'POST', url: '/api/v1beta/workloads/stop', payload: { names: ['api-echo'] } });
    expect(bulkStop.statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/status' })).json()).toMatchObject({ status: 'stopped' });
    expect((await app.inject({ method: 'POST', url: '/api/v1beta/workloads/restart', payload: { group: 'default' } })).statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/status' })).json()).toMatchObject({ status: 'running' });
    expect((await app.inject({ method: 'POST', url: '/api/v1beta/workloads/stop', payload: { names: ['nope'] } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/v1beta/workloads/stop', payload: { names: ['a'], group: 'default' } })).statusCode).toBe(400);

    const logs = await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/logs' });
    expect(logs.body).toContain('MCP server process started');

    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/api-echo/proxy-logs' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1beta/workloads/api-echo' })).statusCode).toBe(202);
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
    expect((await app.inject({ method: 'DELETE', url: '/api/v1beta/workloads/api-bad' })).statusCode).toBe(202);
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
    const groups = await createAppServices({ paths: resolvePaths(home.env), env: { ...process.env, ...home.env }, interactive: false }).groups();
    await expect(groups.remove('default', { withWorkloads: true })).rejects.toMatchObject({ code: 'bad_request' });
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads/keep/status' })).json()).toMatchObject({ status: 'running' });
  });
});

describe('one workload per name', () => {
  it('8 parallel POSTs of one name: exactly one 201, seven 409 already_exists, one supervisor', async () => {
    const payload = { name: 'dup', command: ['node', STDIO_FIXTURE], env_vars: { FIXTURE_PID_FILE: pidFile }, isolation: 'none' };
    const results = await Promise.all(Array.from({ length: 8 }, () => app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload })));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json()).toMatchObject({ code: 'already_exists' });
    const servers = await waitFor('the server to record its pid', async () => ((await pidsIn(pidFile)).length > 0 ? pidsIn(pidFile) : undefined));
    expect(servers.filter(isAlive)).toHaveLength(1);
    const list = (await app.inject({ method: 'GET', url: '/api/v1beta/workloads' })).json().workloads as Array<{ name: string; status: string }>;
    expect(list).toEqual([expect.objectContaining({ name: 'dup', status: 'running' })]);
  });
});

describe('damaged state never hides a live supervisor', () => {
  async function runningWorkload(name: string): Promise<number> {
    const created = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload: { name, command: ['node', STDIO_FIXTURE], env_vars: { FIXTURE_PID_FILE: pidFile }, isolation: 'none' } });
    expect(created.statusCode).toBe(201);
    const list = (await app.inject({ method: 'GET', url: '/api/v1beta/workloads' })).json().workloads as Array<{ name: string; process_id: number }>;
    const pid = list.find((w) => w.name === name)!.process_id;
    expect(isAlive(pid)).toBe(true);
    return pid;
  }

  it('an empty run config: listed as unknown with the reason, and stop and delete still stop the supervisor', async () => {
    const supervisor = await runningWorkload('broken-config');
    const paths = resolvePaths(home.env);
    await writeFile(join(paths.runConfigsDir, 'broken-config.json'), '');
    const list = (await app.inject({ method: 'GET', url: '/api/v1beta/workloads' })).json().workloads as Array<Record<string, unknown>>;
    expect(list).toEqual([expect.objectContaining({ name: 'broken-config', status: 'unknown', process_id: supervisor })]);
    expect(String(list[0]!.status_context)).toMatch(/not valid JSON.*supervisor \(pid \d+\) is still running.*thv rm broken-config/);
    expect((await app.inject({ method: 'POST', url: '/api/v1beta/workloads/broken-config/stop' })).statusCode).toBe(202);
    expect(isAlive(supervisor)).toBe(false);
    expect((await pidsIn(pidFile)).filter(isAlive)).toEqual([]);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1beta/workloads/broken-config' })).statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/api/v1beta/workloads' })).json().workloads).toEqual([]);
  });

  it('a truncated status file: listed as unknown, and delete finds and stops the supervisor by its record', async () => {
    const supervisor = await runningWorkload('broken-status');
    const paths = resolvePaths(home.env);
    await writeFile(join(paths.statusesDir, 'broken-status.json'), '{"status":"runn');
    const list = (await app.inject({ method: 'GET', url: '/api/v1beta/workloads' })).json().workloads as Array<Record<string, unknown>>;
    expect(list).toEqual([expect.objectContaining({ name: 'broken-status', status: 'unknown', status_context: 'status file is unreadable', process_id: supervisor })]);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1beta/workloads/broken-status' })).statusCode).toBe(202);
    expect(isAlive(supervisor)).toBe(false);
    expect((await pidsIn(pidFile)).filter(isAlive)).toEqual([]);
  });
});

describe('names and paths', () => {
  it('a group or workload name that is a path is refused with 400 and touches nothing outside thv', async () => {
    const victimDir = join(home.root, 'victim');
    await mkdir(victimDir);
    await writeFile(join(victimDir, 'victim.json'), '{}');
    const groupsDir = resolvePaths(home.env).groupsDir;
    await mkdir(groupsDir, { recursive: true });
    const relative = '../../../victim/victim';
    expect(join(groupsDir, `${relative}.json`)).toBe(join(victimDir, 'victim.json'));
    for (const url of [`/api/v1beta/groups/${encodeURIComponent(relative)}`, `/api/v1beta/workloads/${encodeURIComponent(relative)}`]) {
      const res = await app.inject({ method: 'DELETE', url });
      expect(res.statusCode, url).toBe(400);
    }
    expect((await app.inject({ method: 'GET', url: `/api/v1beta/groups/${encodeURIComponent(relative)}` })).statusCode).toBe(400);
    const run = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload: { name: 'x', command: ['true'], group: '../x' } });
    expect(run.statusCode).toBe(400);
    expect(await readFile(join(victimDir, 'victim.json'), 'utf8')).toBe('{}');
  });

  it('a workload host that is not an IP literal or localhost is refused', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1beta/workloads', payload: { name: 'h', command: ['true'], host: 'evil.com' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('host must be an IP address or localhost');
  });

  it('one broken group file is reported in the list, not a 500', async () => {
    const groupsDir = resolvePaths(home.env).groupsDir;
    await mkdir(groupsDir, { recursive: true });
    await writeFile(join(groupsDir, 'broken.json'), '{"name":');
    expect((await app.inject({ method: 'POST', url: '/api/v1beta/groups', payload: { name: 'fine' } })).statusCode).toBe(201);
    const res = await app.inject({ method: 'GET', url: '/api/v1beta/groups' });
    expect(res.statusCode).toBe(200);
    const groups = res.json().groups as Array<{ name: string; problem?: string }>;
    expect(groups.map((g) => g.name)).toEqual(['broken', 'default', 'fine']);
    expect(groups[0]!.problem).toContain('not valid JSON');
  });
});
