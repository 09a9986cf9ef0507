import https from 'node:https';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome, runThv, type TempHome, workloadUrlIn } from '../fixtures/cli.js';
import { listen } from '../../src/transport/listen.js';

/** A remote MCP server over HTTPS whose certificate nothing trusts unless a test says so (test/fixtures/tls). */
const TLS = resolve(import.meta.dirname, '../fixtures/tls');
let remote: https.Server;
let remoteUrl: string;
beforeAll(async () => {
  remote = https.createServer({ key: readFileSync(`${TLS}/key.pem`), cert: readFileSync(`${TLS}/cert.pem`) }, (req, res) => {
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":{}}'));
  });
  remoteUrl = `https://127.0.0.1:${await listen(remote, '127.0.0.1', 0)}/mcp`;
});
afterAll(() => new Promise<void>((r) => remote.close(() => r())));

const homes: TempHome[] = [];
afterEach(async () => {
  for (const home of homes.splice(0)) {
    await runThv(['stop', '--all'], home);
    await home.cleanup();
  }
});

async function proxied(env: NodeJS.ProcessEnv): Promise<Response> {
  const home = await makeTempHome();
  Object.assign(home.env, env);
  homes.push(home);
  const run = await runThv(['run', remoteUrl, '--name', 'tls'], home);
  expect(run.code, run.stderr).toBe(0);
  return fetch(workloadUrlIn(run.stdout), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
}

describe('a remote MCP server over HTTPS', () => {
  it('is reached when its certificate is trusted through NODE_EXTRA_CA_CERTS', async () => {
    const res = await proxied({ NODE_EXTRA_CA_CERTS: `${TLS}/cert.pem` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  });

  it('is refused when its certificate is not trusted: the proxy checks it', async () => {
    const res = await proxied({});
    expect(res.status).toBe(502);
    expect(JSON.stringify(await res.json())).toMatch(/certificate/);
  });
});
