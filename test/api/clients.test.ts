import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runThv, workloadUrlIn } from '../fixtures/cli.js';
import { STDIO_FIXTURE, isAlive, pidsIn } from '../workloads/helpers.js';
import { startTestApi, type TestApi } from './helpers.js';

let api: TestApi;
let cursorFile: string;
beforeEach(async () => {
  api = await startTestApi();
  await mkdir(join(api.home.root, '.cursor'), { recursive: true });
  cursorFile = join(api.home.root, '.cursor', 'mcp.json');
});
afterEach(async () => {
  await runThv(['stop', '--all'], api.home);
  await api.close();
});

describe('/api/v1beta/clients (the routes Studio uses)', () => {
  it('GET /discovery/clients lists every client with installed and registered', async () => {
    const res = await api.send('/api/v1beta/discovery/clients');
    expect(res.status).toBe(200);
    const { clients } = res.json as { clients: Array<Record<string, unknown>> };
    expect(clients.find((c) => c.client_type === 'cursor')).toEqual({ client_type: 'cursor', installed: true, registered: false, supports_skills: false, supports_plugins: false });
    expect(clients.find((c) => c.client_type === 'zed')).toMatchObject({ installed: false, registered: false });
  });

  it('POST /clients registers for the default group and writes the running workloads; DELETE takes them out', async () => {
    const pidFile = join(api.home.root, 'fixture-pids');
    const run = await runThv(['run', '--name', 'fetch', '--isolation', 'none', '-e', `FIXTURE_PID_FILE=${pidFile}`, '--', 'node', STDIO_FIXTURE], api.home, { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const url = workloadUrlIn(run.stdout);

    const created = await api.send('/api/v1beta/clients', { method: 'POST', body: { name: 'cursor' } });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ name: 'cursor', groups: ['default'] });
    expect(JSON.parse(await readFile(cursorFile, 'utf8'))).toEqual({ mcpServers: { fetch: { url } } });
    expect((await api.send('/api/v1beta/clients')).json).toEqual([{ name: 'cursor', groups: ['default'] }]);

    const removed = await api.send('/api/v1beta/clients/cursor', { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect(JSON.parse(await readFile(cursorFile, 'utf8'))).toEqual({ mcpServers: {} });
    expect((await api.send('/api/v1beta/clients')).json).toEqual([]);
    await runThv(['rm', 'fetch'], api.home);
    expect((await pidsIn(pidFile)).filter(isAlive)).toEqual([]);
  });

  it('bulk register and unregister, and removal from one group', async () => {
    expect((await runThv(['group', 'create', 'research'], api.home)).code).toBe(0);
    const bulk = await api.send('/api/v1beta/clients/register', { method: 'POST', body: { names: ['cursor', 'vscode'], groups: ['default', 'research'] } });
    expect(bulk.status).toBe(200);
    expect(bulk.json).toEqual([{ name: 'cursor' }, { name: 'vscode' }]);
    expect((await api.send('/api/v1beta/clients')).json).toEqual([
      { name: 'cursor', groups: ['default', 'research'] },
      { name: 'vscode', groups: ['default', 'research'] },
    ]);
    expect((await api.send('/api/v1beta/clients/cursor/groups/research', { method: 'DELETE' })).status).toBe(204);
    expect((await api.send('/api/v1beta/clients/unregister', { method: 'POST', body: { names: ['vscode'] } })).status).toBe(204);
    expect((await api.send('/api/v1beta/clients')).json).toEqual([{ name: 'cursor', groups: ['default'] }]);
    // The group file records it, as ToolHive's does.
    const group = JSON.parse(await readFile(join(api.home.env.XDG_STATE_HOME!, 'toolhive', 'groups', 'default.json'), 'utf8'));
    expect(group.registered_clients).toEqual(['cursor']);
  });

  it('an unknown client is a 400 naming the valid ones; an unknown group a 404', async () => {
    const bad = await api.send('/api/v1beta/clients', { method: 'POST', body: { name: 'notepad' } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'bad_request', message: expect.stringContaining('notepad') });
    const missing = await api.send('/api/v1beta/clients/register', { method: 'POST', body: { names: ['cursor'], groups: ['nope'] } });
    expect(missing.status).toBe(404);
    expect((await api.send('/api/v1beta/clients')).json).toEqual([]);
  });
});
