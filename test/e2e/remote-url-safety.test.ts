import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';

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
  it('--remote-auth-bearer-token and a credential --remote-header print a warning naming ps', async () => {
    const res = await runThv(['run', 'http://192.0.2.10:8080/mcp', '--name', 'argv', '--remote-auth-bearer-token', SECRET, '--remote-header', `Authorization: Bearer ${SECRET}`], home);
    expect(res.stderr).toMatch(/--remote-auth-bearer-token \(use --remote-auth-bearer-token-file\) is on the command line.*\(ps\)/);
    expect(res.stderr).toMatch(/--remote-header with a credential is on the command line/);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
  });
});
