import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempHome, runThv, THV_BIN, type TempHome } from '../fixtures/cli.js';
import { openApiProblems } from './openapi-structure.js';
import { send } from './helpers.js';

let home: TempHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

describe('thv serve (the built CLI)', () => {
  it('--openapi prints a valid OpenAPI 3 document and exits 0 without listening', async () => {
    home = await makeTempHome();
    const result = await runThv(['serve', '--openapi'], home);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(openApiProblems(doc)).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/api/v1beta/registry/{name}/servers/{serverName}');
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

  it('serves on the loopback port it prints, refuses a foreign Host, and stops cleanly on SIGTERM', async () => {
    home = await makeTempHome();
    const child = spawn(process.execPath, [THV_BIN, 'serve', '--port', '0'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`thv serve exited with ${code}: ${stderr}`)));
    });
    try {
      expect((await send(url, '/health')).status).toBe(204);
      expect((await send(url, '/health', { headers: { host: 'evil.example' } })).status).toBe(403);
      expect((await send(url, '/api/v1beta/registry')).json).toMatchObject({ registries: [{ name: 'default', type: 'embedded' }] });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
