import { lstat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { startServe } from '../fixtures/serve.js';
import { readDiscovery, requestRunningServer } from '../../src/api/discovery.js';
import { resolvePaths } from '../../src/core/paths.js';
import { openApiProblems } from './openapi-structure.js';
import { send } from './helpers.js';

let home: TempHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

describe('thv serve (the built CLI)', () => {
  it('--openapi --socket=<path> (how ToolHive Studio starts it) serves the document and /api/doc, and keeps running', async () => {
    home = await makeTempHome();
    const socketPath = join(home.root, 'studio', 'thv.sock');
    const serve = await startServe(home, ['--openapi', `--socket=${socketPath}`]);
    try {
      expect(serve.url).toBe(`unix://${socketPath}`);
      const doc = await send('http://localhost', '/api/openapi.json', { socketPath });
      expect(doc.status).toBe(200);
      const document = doc.json as { openapi: string; paths: Record<string, unknown> };
      expect(document.openapi).toMatch(/^3\./);
      expect(openApiProblems(document)).toEqual([]);
      expect(Object.keys(document.paths)).toContain('/api/v1beta/registry/{name}/servers/{serverName}');
      const page = await send('http://localhost', '/api/doc', { socketPath });
      expect(page.status).toBe(200);
      expect(page.text).toContain('<!doctype html>');
      expect(serve.child.exitCode).toBeNull();
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    await expect(lstat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('an invalid --port is a usage error (exit 2)', async () => {
    home = await makeTempHome();
    const result = await runThv(['serve', '--port', '70000'], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port');
  });

  it('a --port in use is a port_in_use error naming the port, with a hint', async () => {
    home = await makeTempHome();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const result = await runThv(['serve', '--port', String(port)], home);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(result.stderr).toContain('Choose another port with --port.');
      expect(result.stderr).not.toContain('unexpected');
      expect(result.stderr).not.toContain('--proxy-port');
    } finally {
      blocker.close();
    }
  });

  it('serves on the loopback port it prints, with the token it prints once, refuses a foreign Host, and stops cleanly on SIGTERM', async () => {
    home = await makeTempHome();
    const serve = await startServe(home, ['--port', '0']);
    const url = serve.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const auth = { authorization: `Bearer ${serve.token!}` };
    try {
      expect((await send(url, '/health')).status).toBe(401);
      expect((await send(url, '/health', { headers: auth })).status).toBe(204);
      expect((await send(url, '/health', { headers: { ...auth, host: 'evil.example' } })).status).toBe(403);
      expect((await send(url, '/api/v1beta/registry', { headers: auth })).json).toMatchObject({ registries: [{ name: 'default', type: 'default' }] });
      // The CLI's own client finds the server and its token in the discovery file.
      const viaDiscovery = await requestRunningServer(resolvePaths(home.env), 'GET', '/api/v1beta/version');
      expect(viaDiscovery.status).toBe(200);
      expect(serve.stderr().split(serve.token!).length - 1).toBe(1);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    expect(await readDiscovery(resolvePaths(home.env))).toBeUndefined();
  });

  it('a non-loopback --host keeps the token and warns', async () => {
    home = await makeTempHome();
    const serve = await startServe(home, ['--host', '0.0.0.0', '--port', '0']);
    try {
      expect(serve.stderr()).toContain('Warning: binding 0.0.0.0');
      expect(serve.stderr()).toContain('requires the bearer token');
      const port = new URL(serve.url).port;
      expect((await send(`http://127.0.0.1:${port}`, '/health')).status).toBe(401);
      expect((await send(`http://127.0.0.1:${port}`, '/health', { headers: { authorization: `Bearer ${serve.token!}` } })).status).toBe(204);
    } finally {
      await serve.stop();
    }
  });
});
