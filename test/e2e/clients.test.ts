import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { THV_BIN, makeTempHome, runThv, spawnedChildren, type TempHome } from '../fixtures/cli.js';
import { runThvInPty } from '../fixtures/pty.js';
import { STDIO_FIXTURE, isAlive, pidsIn, textOf } from '../workloads/helpers.js';

let home: TempHome;
let pidFile: string;
let cursorFile: string;

beforeEach(async () => {
  home = await makeTempHome();
  pidFile = join(home.root, 'fixture-pids');
  // Cursor and VS Code are "installed": their folders exist.
  await mkdir(join(home.root, '.cursor'), { recursive: true });
  await mkdir(join(home.env.XDG_CONFIG_HOME!, 'Code', 'User'), { recursive: true });
  cursorFile = join(home.root, '.cursor', 'mcp.json');
});

const spawned = spawnedChildren();
afterEach(async () => {
  await spawned.endAll();
  await runThv(['stop', '--all'], home);
  const leftovers = (await pidsIn(pidFile)).filter(isAlive);
  for (const pid of leftovers) process.kill(pid, 'SIGKILL');
  await home.cleanup();
  expect(leftovers).toEqual([]);
});

/** Unconfined: the test follows the server's host pid (FIXTURE_PID_FILE), which a sandbox hides. */
async function runFixture(name: string, extra: string[] = []) {
  const result = await runThv(['run', '--name', name, '--isolation', 'none', '-e', `FIXTURE_PID_FILE=${pidFile}`, ...extra, '--', 'node', STDIO_FIXTURE], home, { timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  return /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(result.stdout)![1]!;
}

async function cursorServers(): Promise<Record<string, { url: string }>> {
  return (JSON.parse(await readFile(cursorFile, 'utf8')) as { mcpServers: Record<string, { url: string }> }).mcpServers;
}

describe('thv client', () => {
  it('status shows which clients are installed and registered, as a table and as JSON', async () => {
    let result = await runThv(['client', 'status', '--format', 'json'], home);
    expect(result.code).toBe(0);
    let statuses = JSON.parse(result.stdout) as Array<{ client_type: string; installed: boolean; registered: boolean }>;
    expect(statuses.find((s) => s.client_type === 'cursor')).toEqual({ client_type: 'cursor', installed: true, registered: false, supports_skills: false, supports_plugins: false });
    expect(statuses.find((s) => s.client_type === 'windsurf')?.installed).toBe(false);
    expect(statuses.map((s) => s.client_type)).toEqual(expect.arrayContaining(['claude-code', 'claude-desktop', 'vscode', 'vscode-insider', 'codex', 'gemini-cli', 'goose', 'continue', 'amp-cli']));

    expect((await runThv(['client', 'register', 'cursor'], home)).code).toBe(0);
    result = await runThv(['client', 'status'], home);
    expect(result.stdout).toMatch(/^cursor\s+yes\s+yes\s+.*\.cursor\/mcp\.json$/m);
    statuses = JSON.parse((await runThv(['client', 'status', '--format', 'json'], home)).stdout);
    expect(statuses.find((s) => s.client_type === 'cursor')?.registered).toBe(true);
  });

  it('run adds the entry to registered clients, stop and rm take it away, start brings it back', async () => {
    expect((await runThv(['client', 'register', 'cursor', 'vscode'], home)).code).toBe(0);
    // Recorded where ToolHive records it, and per group.
    const config = parseYaml(await readFile(join(home.env.XDG_CONFIG_HOME!, 'toolhive', 'config.yaml'), 'utf8')) as { clients: { registered_clients: string[] } };
    expect(config.clients.registered_clients).toEqual(['cursor', 'vscode']);
    const listed = await runThv(['client', 'list-registered', '--format', 'json'], home);
    expect(JSON.parse(listed.stdout)).toEqual([{ name: 'cursor', groups: ['default'] }, { name: 'vscode', groups: ['default'] }]);

    const url = await runFixture('fetch');
    expect(await cursorServers()).toEqual({ fetch: { url } });
    const vscode = JSON.parse(await readFile(join(home.env.XDG_CONFIG_HOME!, 'Code', 'User', 'mcp.json'), 'utf8'));
    expect(vscode).toEqual({ servers: { fetch: { type: 'http', url } } });

    expect((await runThv(['stop', 'fetch'], home)).code).toBe(0);
    expect(await cursorServers()).toEqual({});
    const restarted = await runThv(['start', 'fetch'], home, { timeoutMs: 60_000 });
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(Object.keys(await cursorServers())).toEqual(['fetch']);
    expect((await runThv(['rm', 'fetch'], home)).code).toBe(0);
    expect(await cursorServers()).toEqual({});
  });

  it("leaves a workload of another group out, and an entry of the user's own alone", async () => {
    await writeFile(cursorFile, '{\n  // my servers\n  "mcpServers": {\n    "mine": { "url": "https://example.com/mcp" }\n  }\n}\n');
    expect((await runThv(['group', 'create', 'research'], home)).code).toBe(0);
    expect((await runThv(['client', 'register', 'cursor'], home)).code).toBe(0);
    await runFixture('papers', ['--group', 'research']);
    const url = await runFixture('fetch');
    expect(await readFile(cursorFile, 'utf8')).toBe(
      `{\n  // my servers\n  "mcpServers": {\n    "mine": { "url": "https://example.com/mcp" },\n    "fetch": {\n      "url": "${url}"\n    }\n  }\n}\n`,
    );
    // Unregistering removes thv's entries only.
    const removed = await runThv(['client', 'remove', 'cursor', '--format', 'json'], home);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout).changes).toEqual([expect.objectContaining({ client: 'cursor', workload: 'fetch', outcome: 'removed' })]);
    expect(await readFile(cursorFile, 'utf8')).toBe('{\n  // my servers\n  "mcpServers": {\n    "mine": { "url": "https://example.com/mcp" }\n  }\n}\n');
    expect(JSON.parse((await runThv(['client', 'list-registered', '--format', 'json'], home)).stdout)).toEqual([]);
  });

  it("a workload moved to a client's group (thv group rm) appears in the client", async () => {
    expect((await runThv(['group', 'create', 'research'], home)).code).toBe(0);
    expect((await runThv(['client', 'register', 'cursor'], home)).code).toBe(0);
    const url = await runFixture('papers', ['--group', 'research']);
    await writeFile(cursorFile, '{}\n');
    expect((await runThv(['group', 'rm', 'research'], home)).code).toBe(0);
    expect(await cursorServers()).toEqual({ papers: { url } });
  });

  it('register writes the running workloads at once; a broken file is reported and left as it was', async () => {
    const url = await runFixture('fetch');
    const broken = '{ "mcpServers": { ';
    const claudeFile = join(home.root, '.claude.json');
    await writeFile(claudeFile, broken);
    const result = await runThv(['client', 'register', 'cursor', 'claude-code'], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Added "fetch" in ${cursorFile}`);
    expect(result.stderr).toMatch(/Warning: Claude Code config file .*\.claude\.json is not valid JSON/);
    expect(await readFile(claudeFile, 'utf8')).toBe(broken);
    expect(await cursorServers()).toEqual({ fetch: { url } });
  });

  it('setup: --all registers the installed clients; without a terminal and without names it refuses', async () => {
    const refused = await runThv(['client', 'setup'], home);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/no terminal to ask which clients to register.*--all/);
    const result = await runThv(['client', 'setup', '--all', '--format', 'json'], home);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).registered.sort()).toEqual(['cursor', 'vscode']);
    // A client that is not installed gets no folder.
    await expect(stat(join(home.root, '.codeium'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('setup on a terminal lists the installed, unregistered clients and registers the ones picked', async () => {
    const session = runThvInPty(['client', 'setup'], home.env, 30_000);
    await session.answer('Register which?', '2');
    const { code, output } = await session.exit;
    expect(code, output).toBe(0);
    expect(output).toMatch(/1\) cursor .*\r?\n.*2\) vscode /);
    expect(output).toContain('Registered vscode');
    expect(JSON.parse((await runThv(['client', 'list-registered', '--format', 'json'], home)).stdout)).toEqual([{ name: 'vscode', groups: ['default'] }]);
  });

  it('refuses an unknown client (naming the valid ones) and an unknown group', async () => {
    const unknown = await runThv(['client', 'register', 'notepad'], home);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unsupported client type "notepad"/);
    expect(unknown.stderr).toMatch(/Valid clients: claude-code, claude-desktop, cursor/);
    const group = await runThv(['client', 'register', 'cursor', '--group', 'nope'], home);
    expect(group.code).not.toBe(0);
    expect(group.stderr).toMatch(/group "nope" does not exist/);
  });
});

describe('thv proxy stdio', () => {
  it('bridges a stdio MCP client (Claude Desktop style) to a running workload', async () => {
    await runFixture('fetch');
    const transport = new StdioClientTransport({ command: process.execPath, args: [THV_BIN, 'proxy', 'stdio', 'fetch'], env: home.env as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'desktop-like', version: '1.0.0' });
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('echo');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'through the bridge' } }))).toBe('through the bridge');
    } finally {
      await client.close();
    }
  });

  it('relays messages it does not understand unchanged, and the answers to them', async () => {
    await runFixture('fetch');
    const { spawn } = await import('node:child_process');
    const child = spawned.add(spawn(process.execPath, [THV_BIN, 'proxy', 'stdio', 'fetch'], { env: home.env, stdio: ['pipe', 'pipe', 'pipe'] }));
    const lines: Array<Record<string, unknown>> = [];
    let buffer = '';
    const waitForId = (id: number) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const check = () => {
          const found = lines.find((l) => l.id === id);
          if (found) resolve(found);
          else setTimeout(check, 20);
        };
        check();
      });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        buffer = buffer.slice(nl + 1);
      }
    });
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const init = await waitForId(1);
    expect((init.result as { protocolVersion: string }).protocolVersion).toBe('2025-06-18');
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'future/unknownMethod', params: { x: 1 } });
    const answer = await waitForId(2);
    expect(answer.error).toMatchObject({ code: -32601 });
    child.stdin.end();
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
  });

  it('passes 2026-07-28 requests through with the headers that revision requires', async () => {
    const pidArgs = ['--isolation', 'none', '-e', `FIXTURE_PID_FILE=${pidFile}`];
    const run = await runThv(['run', '--name', 'modern', ...pidArgs, '--', 'node', join(import.meta.dirname, '../fixtures/mcp-v2-stdio-server.mjs')], home, { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const { spawn } = await import('node:child_process');
    const child = spawned.add(spawn(process.execPath, [THV_BIN, 'proxy', 'stdio', 'modern'], { env: home.env, stdio: ['pipe', 'pipe', 'pipe'] }));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const answer = (id: number) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const check = () => {
          const line = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.id === id);
          if (line) resolve(line);
          else setTimeout(check, 20);
        };
        check();
      });
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'modern' }, _meta: meta } })}\n`);
    const result = await answer(1);
    expect(result.error, JSON.stringify(result)).toBeUndefined();
    expect(JSON.stringify(result.result)).toContain('modern');
    child.stdin.end();
    await new Promise((resolve) => child.on('close', resolve));
  });

  it('fails with a clear message for a workload that is not running', async () => {
    await runFixture('fetch');
    await runThv(['stop', 'fetch'], home);
    const result = await runThv(['proxy', 'stdio', 'fetch'], home);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/workload "fetch" is stopped/);
    expect(result.stdout).toBe('');
  });
});
