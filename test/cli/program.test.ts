import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { cliContext } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/program.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';

// The CLI in-process, with a fake context: strings for stdout/stderr, a temporary home, no TTY.
// End-to-end flows still spawn the built CLI (test/e2e).

let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(() => home.cleanup());

async function thv(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ctx = cliContext({
    env: home.env,
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
    columns: Number.POSITIVE_INFINITY,
  });
  const code = await runCli(argv, ctx);
  return { code, stdout, stderr };
}

/** Whatever the home holds: a refused command must leave it as it was. */
async function filesUnder(dir: string): Promise<string[]> {
  return readdir(dir, { recursive: true }).catch(() => []);
}

describe('--format', () => {
  const commands = [
    ['version'],
    ['registry', 'list'],
    ['registry', 'info', 'fetch'],
    ['search', 'fetch'],
    ['list'],
    ['status', 'w'],
    ['secret', 'list'],
    ['group', 'list'],
    ['client', 'status'],
    ['client', 'list-registered'],
    ['runtime', 'check'],
  ];

  it('a bad value is a usage error (exit 2) with the same message on every command, before anything runs', async () => {
    for (const command of commands) {
      const result = await thv(...command, '--format', 'xml');
      expect(result.code, command.join(' ')).toBe(2);
      expect(result.stderr, command.join(' ')).toContain("error: option '--format <format>' argument 'xml' is invalid. Use --format text or --format json.");
      expect(result.stdout, command.join(' ')).toBe('');
    }
    expect(await filesUnder(home.root)).toEqual([]);
  });

  it('json is accepted everywhere', async () => {
    const version = await thv('version', '--format', 'json');
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout)).toMatchObject({ version: expect.any(String) });
    const groups = await thv('group', 'list', '--format', 'json');
    expect(groups.code).toBe(0);
    expect(JSON.parse(groups.stdout)).toEqual([expect.objectContaining({ name: 'default', workloads: [] })]);
  });
});

describe('ports', () => {
  it('every port flag refuses a value out of range with the same message', async () => {
    for (const args of [
      ['run', '--proxy-port', '70000', '--', 'node', 'x.js'],
      ['run', 'https://example.com/mcp', '--remote-auth-callback-port', 'x'],
      ['serve', '--port', '65536'],
      ['config', 'set-registry', 'https://example.com/r.json', '--callback-port', '0'],
      ['registry', 'login', '--callback-port', '-1'],
    ]) {
      const result = await thv(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/argument '[^']*' is invalid\. Expected a port number from [01] to 65535\./);
    }
    expect(await filesUnder(home.root)).toEqual([]);
  });
});

describe('thv run flag syntax', () => {
  it('-e without "=" is refused before anything is written', async () => {
    const result = await thv('run', '-e', 'NOVALUE', '--', 'node', 'server.js');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('Error: failed to run the workload: "NOVALUE" is not an environment variable assignment: Use -e NAME=value.\n');
    expect(await filesUnder(home.root)).toEqual([]);
  });

  it('--secret must name a target environment variable', async () => {
    const result = await thv('run', '--secret', 'token', '--', 'node', 'server.js');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('Error: failed to run the workload: "token" is not a secret reference: Use --secret NAME,target=ENV_VAR.\n');
  });

  it('a --remote-header that is not "Name: value" is refused without echoing it (it may hold a credential)', async () => {
    const result = await thv('run', 'https://example.com/mcp', '--remote-header', 'Bearer-only-secret-value');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a --remote-header is not "Name: value"');
    expect(result.stderr).not.toContain('secret-value');
  });

  it('--group refuses a name no group can have', async () => {
    const result = await thv('run', '--group', '../etc', '--', 'node', 'server.js');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--group <group>' argument '../etc' is invalid.");
    expect(await filesUnder(home.root)).toEqual([]);
  });
});

describe('thv group', () => {
  it('is registered on its own and works in-process', async () => {
    expect((await thv('group', 'create', 'team')).stdout).toBe('Group "team" created\n');
    const list = await thv('group', 'list');
    expect(list.stdout).toMatch(/^NAME\s+WORKLOADS\s+CREATED\n/);
    expect(list.stdout).toContain('team');
  });
});
