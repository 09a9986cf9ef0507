import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, runThv, type TempHome, workloadUrlIn } from '../fixtures/cli.js';
import { startMcpHttpServer, type McpHttpFixture } from '../fixtures/mcp-http-server.mjs';

/** Issue 14: credentials in URLs and credentials over plain http are refused before anything is stored. */
const SECRET = 'url-secret-5f2c9a';
let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(() => home.cleanup());

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path, 'utf8')).includes(needle)) hits.push(path);
  }
  return hits;
}

describe('thv run with credentials in the remote URL', () => {
  it.each([
    ['a credential query parameter', `http://127.0.0.1:9/mcp?api_key=${SECRET}`, /query parameter that looks like a credential \("api_key"\)/],
    ['an access_token parameter next to harmless ones', `https://mcp.example/mcp?region=eu&access_token=${SECRET}`, /"access_token"/],
    ['user:password@', `http://user:${SECRET}@127.0.0.1:9/mcp`, /user name or password/],
  ])('%s is refused with a hint, and the value appears nowhere', async (_what, url, message) => {
    const res = await runThv(['run', url, '--name', 'leaky'], home);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).toMatch(/--remote-header|--remote-auth-bearer-token-file/);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    expect(await filesContaining(home.root, SECRET)).toEqual([]);
  });
});

describe('thv run with credentials to a plain http remote', () => {
  it('refuses a bearer token for a host that is not this machine, naming --allow-insecure-http', async () => {
    const tokenFile = join(home.root, 'token');
    await writeFile(tokenFile, SECRET, { mode: 0o600 });
    const res = await runThv(['run', 'http://192.0.2.10:8080/mcp', '--name', 'plain', '--remote-auth-bearer-token-file', tokenFile], home);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/plain http/);
    expect(res.stderr).toContain('--allow-insecure-http');
  });

  it('refuses a credential header over plain http', async () => {
    const res = await runThv(['run', 'http://192.0.2.10:8080/mcp', '--name', 'plain', '--remote-header', `X-API-Key: ${SECRET}`], home);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('--allow-insecure-http');
    expect(await filesContaining(home.root, SECRET)).toEqual([]);
  });
});

describe('credentials on argv (issue 14)', () => {
  it('--remote-auth-bearer-token, --remote-auth-client-secret and a credential --remote-header each print a warning naming ps and the -file form', async () => {
    const res = await runThv(
      ['run', 'http://192.0.2.10:8080/mcp', '--name', 'argv', '--remote-auth-bearer-token', SECRET, '--remote-auth-client-id', 'c', '--remote-auth-client-secret', SECRET, '--remote-header', `Authorization: Bearer ${SECRET}`],
      home,
    );
    expect(res.stderr).toMatch(/--remote-auth-bearer-token \(use --remote-auth-bearer-token-file\) is on the command line.*\(ps\)/);
    expect(res.stderr).toMatch(/--remote-auth-client-secret \(use --remote-auth-client-secret-file\) is on the command line.*\(ps\)/);
    expect(res.stderr).toMatch(/--remote-header with a credential \(use --remote-header-file\) is on the command line.*\(ps\)/);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
  });
});

describe('credentials from a file or stdin (issue 14: nothing on argv)', () => {
  let remote: McpHttpFixture;
  beforeEach(async () => {
    remote = await startMcpHttpServer();
    // The encrypted secrets store (no keyring in tests) keeps the credentials.
    home.env.TOOLHIVE_SECRETS_PASSWORD = 'remote-url-safety-password';
  });
  afterEach(async () => {
    await runThv(['stop', '--all'], home);
    await remote.close();
  });

  /** Runs a remote workload, sends one request through its proxy and returns the headers the remote got. */
  async function headersSent(args: string[], input?: string): Promise<{ stderr: string; headers: Record<string, unknown>; proxy: string }> {
    const res = await runThv(['run', remote.url, '--name', 'filed', ...args], home, { ...(input !== undefined ? { input } : {}), timeoutMs: 60_000 });
    expect(res.stderr).not.toMatch(/Warning: the value/);
    expect(res.code).toBe(0);
    const proxy = workloadUrlIn(res.stdout);
    return { stderr: res.stderr, headers: await oneRequest(proxy), proxy };
  }

  async function oneRequest(proxy: string): Promise<Record<string, unknown>> {
    const before = remote.requests.length;
    await fetch(proxy, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    }).then((r) => r.arrayBuffer());
    expect(remote.requests.length).toBeGreaterThan(before);
    return remote.requests.at(-1)!.headers;
  }

  it('--remote-auth-bearer-token-file - reads the token from stdin once and keeps it in the secrets store (a restart still sends it)', async () => {
    const { headers, proxy } = await headersSent(['--remote-auth-bearer-token-file', '-'], `${SECRET}\n`);
    expect(headers.authorization).toBe(`Bearer ${SECRET}`);
    expect((await runThv(['restart', 'filed'], home, { timeoutMs: 60_000 })).code).toBe(0);
    expect((await oneRequest(proxy)).authorization).toBe(`Bearer ${SECRET}`);
    expect(await filesContaining(home.root, SECRET)).toEqual([]);
  });

  it('--remote-header-file reads "Name: value" lines from a file, and - from stdin', async () => {
    const file = join(home.root, 'headers');
    await writeFile(file, `Authorization: Bearer ${SECRET}\r\nX-Tenant: blue\n\n`, { mode: 0o600 });
    const fromFile = await headersSent(['--remote-header-file', file]);
    expect(fromFile.headers).toMatchObject({ authorization: `Bearer ${SECRET}`, 'x-tenant': 'blue' });
    expect((await runThv(['rm', 'filed'], home)).code).toBe(0);
    await rm(file);

    const fromStdin = await headersSent(['--remote-header-file', '-'], `X-API-Key: ${SECRET}-2\n`);
    expect(fromStdin.headers['x-api-key']).toBe(`${SECRET}-2`);
    // Credential headers go to the secrets store, never to the run config or any other file.
    expect(await filesContaining(home.root, SECRET)).toEqual([]);
  });

  it('two flags cannot both read stdin, and an unreadable file is refused without running anything', async () => {
    const both = await runThv(['run', remote.url, '--name', 'filed', '--remote-header-file', '-', '--remote-auth-bearer-token-file', '-'], home, { input: 'X-A: b\n' });
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/both read standard input/);
    const missing = await runThv(['run', remote.url, '--name', 'filed', '--remote-header-file', join(home.root, 'nope')], home);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot read --remote-header-file .*ENOENT/);
    expect((await runThv(['list', '--all', '--format', 'json'], home)).stdout.trim()).toBe('[]');
  });
});
