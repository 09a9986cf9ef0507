import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { chmod, lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import { discoveryFile, readDiscovery } from '../../src/api/discovery.js';
import { resolvePaths } from '../../src/core/paths.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { send } from './helpers.js';

let home: TempHome | undefined;
let server: RunningApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await home?.cleanup();
  home = undefined;
});

async function start(options: { socket?: string; openapi?: boolean } = {}): Promise<RunningApiServer> {
  home ??= await makeTempHome();
  server = await startApiServer({ host: '127.0.0.1', port: 0, env: home.env, ...options });
  return server;
}

describe('TCP: only a caller with the bearer token gets in', () => {
  it('no token, a wrong token or another scheme is 401 unauthorized on every route, even /health and unknown ones', async () => {
    const api = await start();
    for (const path of ['/health', '/api/v1beta/workloads', '/api/openapi.json', '/no/such/route']) {
      const res = await send(api.url, path);
      expect(res.status, path).toBe(401);
      expect(res.json).toMatchObject({ code: 'unauthorized' });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    const wrong = await send(api.url, '/health', { headers: { authorization: `Bearer ${'x'.repeat(43)}` } });
    expect(wrong.status).toBe(401);
    const basic = await send(api.url, '/health', { headers: { authorization: `Basic ${api.token!}` } });
    expect(basic.status).toBe(401);
    const post = await send(api.url, '/api/v1beta/groups', { method: 'POST', body: { name: 'pwn' } });
    expect(post.status).toBe(401);
    const groups = await send(api.url, '/api/v1beta/groups', { headers: { authorization: `Bearer ${api.token!}` } });
    expect(groups.status).toBe(200);
    expect(JSON.stringify(groups.json)).not.toContain('pwn');
  });

  it('the right token is accepted, and a token is new for every server', async () => {
    const api = await start();
    expect(api.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await send(api.url, '/health', { headers: { authorization: `Bearer ${api.token!}` } })).status).toBe(204);
    const second = await startApiServer({ host: '127.0.0.1', port: 0, env: home!.env, discovery: false });
    try {
      expect(second.token).not.toBe(api.token);
      expect((await send(second.url, '/health', { headers: { authorization: `Bearer ${api.token!}` } })).status).toBe(401);
    } finally {
      await second.close();
    }
  });

  it('the discovery file names the server and its token, is 0600 in a 0700 folder, and goes away on close', async () => {
    const api = await start();
    const paths = resolvePaths(home!.env);
    const file = discoveryFile(paths);
    expect(file).toBe(join(home!.env.XDG_STATE_HOME!, 'toolhive', 'server', 'server.json'));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(file, '..'))).mode & 0o777).toBe(0o700);
    const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({ url: api.url, socket: '', pid: process.pid, started_at: expect.any(String), token: api.token });
    await api.close();
    server = undefined;
    expect(await readDiscovery(paths)).toBeUndefined();
  });
});

describe('unix socket: the kernel decides who connects', () => {
  it('is created 0600 in a 0700 folder, needs no token, skips the browser checks, and is removed on close', async () => {
    home = await makeTempHome();
    const socketPath = join(home.root, 'run', 'thv.sock');
    const api = await start({ socket: socketPath });
    expect(api.url).toBe(`unix://${socketPath}`);
    expect(api.token).toBeUndefined();
    expect((await lstat(socketPath)).isSocket()).toBe(true);
    expect((await lstat(socketPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home.root, 'run'))).mode & 0o777).toBe(0o700);
    expect((await send('http://localhost', '/health', { socketPath })).status).toBe(204);
    // Studio's HTTP client names whatever host it likes; no web page can reach a unix socket.
    expect((await send('http://localhost', '/api/v1beta/version', { socketPath, headers: { host: 'toolhive.local' } })).status).toBe(200);
    const record = await readDiscovery(resolvePaths(home.env));
    expect(record).toMatchObject({ url: `unix://${socketPath}`, socket: socketPath, token: '' });
    await api.close();
    server = undefined;
    await expect(lstat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('an existing folder of ours is tightened to 0700', async () => {
    home = await makeTempHome();
    const folder = join(home.root, 'open');
    await mkdir(folder, { mode: 0o755 });
    await chmod(folder, 0o755);
    await start({ socket: join(folder, 'thv.sock') });
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
  });

  it('a stale socket (nobody listening) is replaced; a live one and a plain file are refused and left alone', async () => {
    home = await makeTempHome();
    const folder = join(home.root, 'run');
    await mkdir(folder, { mode: 0o700 });
    const stale = join(folder, 'stale.sock');
    await leaveStaleSocket(stale);
    const live = join(folder, 'live.sock');
    const liveServer = createServer();
    await new Promise<void>((r) => liveServer.listen(live, r));
    try {
      expect((await lstat(stale)).isSocket()).toBe(true);
      const api = await start({ socket: stale });
      expect((await send('http://localhost', '/health', { socketPath: stale })).status).toBe(204);
      await api.close();
      server = undefined;

      await expect(startApiServer({ socket: live, env: home.env, discovery: false })).rejects.toMatchObject({ code: 'port_in_use' });
      expect((await lstat(live)).isSocket()).toBe(true);

      const plain = join(folder, 'plain');
      await writeFile(plain, 'keep me');
      await expect(startApiServer({ socket: plain, env: home.env, discovery: false })).rejects.toMatchObject({ code: 'bad_request' });
      expect(await readFile(plain, 'utf8')).toBe('keep me');
    } finally {
      liveServer.close();
    }
  });
});

describe('--openapi', () => {
  it('serves a self-contained HTML reference at /api/doc next to /api/openapi.json', async () => {
    const api = await start({ openapi: true });
    const headers = { authorization: `Bearer ${api.token!}` };
    const doc = await send(api.url, '/api/doc', { headers });
    expect(doc.status).toBe(200);
    expect(doc.headers['content-type']).toMatch(/^text\/html/);
    expect(doc.text).toContain('/api/v1beta/workloads');
    // Nothing is loaded from elsewhere: no scripts, no stylesheets or images by URL.
    expect(doc.text).not.toMatch(/<script|<link|src=|https?:\/\/(?!localhost)/i);
    expect((await send(api.url, '/api/openapi.json', { headers })).status).toBe(200);
  });

  it('without --openapi there is no /api/doc', async () => {
    const api = await start();
    expect((await send(api.url, '/api/doc', { headers: { authorization: `Bearer ${api.token!}` } })).status).toBe(404);
  });
});

/** A killed server leaves its socket file behind (libuv only unlinks it on a clean close). */
async function leaveStaleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(child.stdout, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
}
