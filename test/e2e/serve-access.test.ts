import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoveryFile } from '../../src/api/discovery.js';
import { resolvePaths } from '../../src/core/paths.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { startServe, type ServeProcess } from '../fixtures/serve.js';

/**
 * Another local user (uid 65534) against a running `thv serve`: the socket refuses the connection
 * (EACCES) and TCP answers 401 without the token, which that user cannot read.
 */
const NOBODY = 65534;
const canSwitchUser = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
if (!canSwitchUser) console.error('serve-access: skipped, needs root and setpriv to run a client as uid 65534');

const CLIENT = `
const http = require('node:http');
const fs = require('node:fs');
const [target, discovery] = process.argv.slice(2);
const out = {};
function call(method, path, body) {
  return new Promise((resolve) => {
    const opts = target.startsWith('/') ? { socketPath: target, path } : { ...splitUrl(target), path };
    const payload = body ? JSON.stringify(body) : undefined;
    const req = http.request({ ...opts, method, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      let text = ''; res.on('data', (c) => (text += c)); res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', (err) => resolve({ error: err.code }));
    req.end(payload);
  });
}
function splitUrl(u) { const url = new URL(u); return { hostname: url.hostname, port: url.port }; }
(async () => {
  out.uid = process.getuid();
  out.list = await call('GET', '/api/v1beta/workloads');
  out.create = await call('POST', '/api/v1beta/workloads', { name: 'pwn', command: ['sh', '-c', 'id > ' + require('node:path').join(__dirname, 'pwned')] });
  try { fs.readFileSync(discovery, 'utf8'); out.discovery = 'readable'; } catch (err) { out.discovery = err.code; }
  console.log(JSON.stringify(out));
})();
`;

describe.runIf(canSwitchUser)('thv serve against another local user (uid 65534)', () => {
  let clientDir: string;
  let client: string;
  beforeAll(async () => {
    clientDir = await mkdtemp(join(tmpdir(), 'thv-nobody-'));
    await chmod(clientDir, 0o755);
    client = join(clientDir, 'client.cjs');
    await writeFile(client, CLIENT, { mode: 0o644 });
  });
  afterAll(async () => {
    await rm(clientDir, { recursive: true, force: true });
  });

  function asNobody(...args: string[]): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, client, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: clientDir,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) reject(new Error(`client exited ${code}: ${stderr}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      });
    });
  }

  async function withServe(args: (home: TempHome) => string[], fn: (serve: ServeProcess, home: TempHome) => Promise<void>): Promise<void> {
    const home = await makeTempHome();
    const serve = await startServe(home, args(home));
    try {
      await fn(serve, home);
    } finally {
      await serve.stop();
      await home.cleanup();
    }
  }

  it('on --socket: the connection is refused with EACCES, even when the folder is opened up, and nothing is created', async () => {
    await withServe(
      (home) => ['--socket', join(home.root, 'run', 'thv.sock')],
      async (serve, home) => {
        const socketPath = serve.url.slice('unix://'.length);
        // Open the way to the socket, so only the socket's own 0600 mode stands in between.
        await chmod(home.root, 0o711);
        await chmod(join(home.root, 'run'), 0o711);
        const result = await asNobody(socketPath, discoveryFile(resolvePaths(home.env)));
        expect(result.uid).toBe(NOBODY);
        expect(result.list).toEqual({ error: 'EACCES' });
        expect(result.create).toEqual({ error: 'EACCES' });
        expect(result.discovery).toBe('EACCES');
        await expect(readdir(resolvePaths(home.env).runConfigsDir)).rejects.toMatchObject({ code: 'ENOENT' });
      },
    );
  });

  it('on TCP: 401 without the token, the discovery file is unreadable, and nothing is created', async () => {
    await withServe(
      () => ['--port', '0'],
      async (serve, home) => {
        await chmod(home.root, 0o711);
        const result = await asNobody(serve.url, discoveryFile(resolvePaths(home.env)));
        expect(result.uid).toBe(NOBODY);
        expect(result.list).toMatchObject({ status: 401 });
        expect(result.create).toMatchObject({ status: 401 });
        expect(String((result.list as { text: string }).text)).not.toContain(serve.token!);
        expect(result.discovery).toBe('EACCES');
        await expect(readdir(resolvePaths(home.env).runConfigsDir)).rejects.toMatchObject({ code: 'ENOENT' });
        expect(await readdir(clientDir)).toEqual(['client.cjs']);
      },
    );
  });
});
