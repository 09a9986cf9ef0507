import { chmod, lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { findClient } from '../../src/clients/catalog.js';
import { ClientConfigFiles } from '../../src/clients/config-file.js';
import { clientsFixture, workload, type ClientsFixture } from './helpers.js';

let fx: ClientsFixture;
beforeEach(async () => {
  fx = await clientsFixture('linux');
});
afterEach(async () => {
  await fx.cleanup();
});

async function fileOf(id: string): Promise<string> {
  return (await findClient(id)!.files(fx.environment))[0]!;
}

async function put(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
}

describe('editing client files safely', () => {
  it("keeps a VS Code file's comments, trailing commas and tab indentation", async () => {
    const file = await fileOf('vscode');
    const original = '{\n\t// inputs for my own servers\n\t"inputs": [],\n\t"servers": {\n\t\t"mine": { "command": "npx" }, // do not touch\n\t},\n}\n';
    await put(file, original);
    fx.workloads = [workload('fetch', 41001)];
    await fx.service.register(['vscode']);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('\t// inputs for my own servers\n');
    expect(text).toContain('"mine": { "command": "npx" }, // do not touch\n');
    expect(text).toContain('\t\t"fetch": {\n\t\t\t"type": "http",\n\t\t\t"url": "http://127.0.0.1:41001/mcp"\n\t\t}');
    await fx.service.remove(['vscode']);
    expect(await readFile(file, 'utf8')).toBe(original);
  });

  it('writes Amp\'s servers under the one literal key "amp.mcpServers", never amp → mcpServers', async () => {
    const file = await fileOf('amp-cli');
    await put(file, '{\n  "amp.mcpServers": {},\n  "amp": { "notifications.enabled": false }\n}\n');
    fx.workloads = [workload('fetch', 41001)];
    await fx.service.register(['amp-cli']);
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(json['amp.mcpServers']).toEqual({ fetch: { url: 'http://127.0.0.1:41001/mcp' } });
    expect(json.amp).toEqual({ 'notifications.enabled': false });
  });

  it('keeps YAML comments in Goose and Continue files', async () => {
    const goose = await fileOf('goose');
    await put(goose, '# goose\nextensions:\n  # the developer extension\n  developer:\n    enabled: true # on\n');
    fx.workloads = [workload('fetch', 41001)];
    await fx.service.register(['goose']);
    const text = await readFile(goose, 'utf8');
    expect(text).toContain('# the developer extension');
    expect(text).toContain('enabled: true # on');
    expect((parseYaml(text) as { extensions: Record<string, { uri?: string }> }).extensions.fetch!.uri).toBe('http://127.0.0.1:41001/mcp');
  });

  it('leaves a Codex config valid TOML with its comments, and adds no table when the workload is SSE-only', async () => {
    const file = await fileOf('codex');
    await put(file, '# top comment\nmodel = "o4" # inline\n\n[mcp_servers."my.server"]\ncommand = "x"\n\n[mcp_servers."my.server".env]\nA = "1"\n');
    fx.workloads = [workload('dotted.name', 41001), workload('remote-sse', 41002, { remote: true, transport_type: 'sse', url: 'http://127.0.0.1:41002/sse' })];
    const report = await fx.service.register(['codex']);
    const text = await readFile(file, 'utf8');
    const parsed = parseToml(text) as { mcp_servers: Record<string, unknown> };
    expect(parsed.mcp_servers['dotted.name']).toEqual({ url: 'http://127.0.0.1:41001/mcp' });
    expect(parsed.mcp_servers['my.server']).toEqual({ command: 'x', env: { A: '1' } });
    expect(parsed.mcp_servers['remote-sse']).toBeUndefined();
    expect(report.changes.find((c) => c.workload === 'remote-sse')?.outcome).toBe('unsupported');
    expect(text).toContain('# top comment\nmodel = "o4" # inline\n');
    await fx.service.remove(['codex']);
    expect(parseToml(await readFile(file, 'utf8'))).toEqual({ model: 'o4', mcp_servers: { 'my.server': { command: 'x', env: { A: '1' } } } });
  });

  it("keeps the file's mode, and edits the target of a symlink (the link stays a link)", async () => {
    const file = await fileOf('cursor');
    const target = join(fx.root, 'dotfiles', 'cursor-mcp.json');
    await put(target, '{\n  "mcpServers": {}\n}\n');
    await chmod(target, 0o640);
    await mkdir(dirname(file), { recursive: true });
    await symlink('../../dotfiles/cursor-mcp.json', file);
    fx.workloads = [workload('fetch', 41001)];
    const report = await fx.service.register(['cursor']);
    expect(report.problems).toEqual([]);
    expect((await lstat(file)).isSymbolicLink()).toBe(true);
    expect(await readlink(file)).toBe('../../dotfiles/cursor-mcp.json');
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    expect(JSON.parse(await readFile(target, 'utf8'))).toEqual({ mcpServers: { fetch: { url: 'http://127.0.0.1:41001/mcp' } } });
  });

  it('reports a file the user broke and leaves it byte-identical', async () => {
    const file = await fileOf('claude-code');
    const broken = '{\n  "mcpServers": {\n    "mine": { "command": "npx" \n}\n';
    await put(file, broken);
    fx.workloads = [workload('fetch', 41001)];
    const report = await fx.service.register(['claude-code']);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]!.message).toMatch(/\.claude\.json is not valid JSON: .* at line \d+, column \d+/);
    expect(report.problems[0]!.hint).toMatch(/left the file unchanged/);
    expect(await readFile(file, 'utf8')).toBe(broken);
  });

  it('creates no file or folder for a client that is not installed, and does once it is', async () => {
    fx.workloads = [workload('fetch', 41001)];
    const report = await fx.service.register(['windsurf']);
    const file = await fileOf('windsurf');
    expect(report.changes.map((c) => c.outcome)).toEqual(['not_installed']);
    await expect(stat(dirname(file))).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(dirname(file), { recursive: true });
    await fx.service.workloadStarted(workload('fetch', 41001));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ mcpServers: { fetch: { serverUrl: 'http://127.0.0.1:41001/mcp' } } });
  });

  it('never overwrites or removes an entry thv did not write, nor one the user changed', async () => {
    const file = await fileOf('cursor');
    await put(file, '{\n  "mcpServers": {\n    "fetch": { "url": "https://example.com/theirs" }\n  }\n}\n');
    fx.workloads = [workload('fetch', 41001), workload('other', 41002)];
    const report = await fx.service.register(['cursor']);
    expect(report.changes.find((c) => c.workload === 'fetch')?.outcome).toBe('foreign');
    let json = JSON.parse(await readFile(file, 'utf8')) as { mcpServers: Record<string, { url: string }> };
    expect(json.mcpServers.fetch!.url).toBe('https://example.com/theirs');
    expect(json.mcpServers.other!.url).toBe('http://127.0.0.1:41002/mcp');

    // The user edits thv's entry: from then on it is theirs.
    await writeFile(file, (await readFile(file, 'utf8')).replace('http://127.0.0.1:41002/mcp', 'http://127.0.0.1:9999/mcp'));
    await fx.service.workloadStopped({ name: 'fetch', group: 'default' });
    await fx.service.workloadStopped({ name: 'other', group: 'default' });
    json = JSON.parse(await readFile(file, 'utf8')) as typeof json;
    expect(json.mcpServers.fetch!.url).toBe('https://example.com/theirs');
    expect(json.mcpServers.other!.url).toBe('http://127.0.0.1:9999/mcp');
  });

  it('serialises concurrent edits of one file: none is lost', async () => {
    const client = findClient('cursor')!;
    const file = await fileOf('cursor');
    await put(file, '{\n  "mcpServers": {}\n}\n');
    // Two writers, as two thv processes would be: each with its own instance.
    const a = new ClientConfigFiles(fx.paths.stateDir);
    const b = new ClientConfigFiles(fx.paths.stateDir);
    const names = Array.from({ length: 12 }, (_, i) => `w${i}`);
    await Promise.all(names.map((name, i) => (i % 2 ? a : b).upsert(client, file, name, { url: `http://127.0.0.1:${40000 + i}/mcp` }, { create: true })));
    const json = JSON.parse(await readFile(file, 'utf8')) as { mcpServers: Record<string, unknown> };
    expect(Object.keys(json.mcpServers).sort()).toEqual([...names].sort());
  });

  it('adds only the workloads of the groups the client is registered for', async () => {
    await fx.groups.create('research');
    const file = await fileOf('cursor');
    await put(file, '{}\n');
    fx.workloads = [workload('fetch', 41001), workload('papers', 41002, { group: 'research' })];
    await fx.service.register(['cursor']);
    expect(Object.keys((JSON.parse(await readFile(file, 'utf8')) as { mcpServers: object }).mcpServers)).toEqual(['fetch']);
    await fx.service.workloadStarted(workload('papers', 41002, { group: 'research' }));
    expect(Object.keys((JSON.parse(await readFile(file, 'utf8')) as { mcpServers: object }).mcpServers)).toEqual(['fetch']);
    await fx.service.register(['cursor'], ['research']);
    expect(Object.keys((JSON.parse(await readFile(file, 'utf8')) as { mcpServers: object }).mcpServers).sort()).toEqual(['fetch', 'papers']);
    expect(await fx.service.listRegistered()).toEqual([{ name: 'cursor', groups: ['default', 'research'] }]);
    await fx.service.remove(['cursor'], ['research']);
    expect(Object.keys((JSON.parse(await readFile(file, 'utf8')) as { mcpServers: object }).mcpServers)).toEqual(['fetch']);
    expect(await fx.service.listRegistered()).toEqual([{ name: 'cursor', groups: ['default'] }]);
  });

  it('writes every VS Code profile that exists', async () => {
    const user = join(fx.home, '.config', 'Code', 'User');
    await mkdir(join(user, 'profiles', '5a1b2c'), { recursive: true });
    fx.workloads = [workload('fetch', 41001)];
    await fx.service.register(['vscode']);
    for (const file of [join(user, 'mcp.json'), join(user, 'profiles', '5a1b2c', 'mcp.json')]) {
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ servers: { fetch: { type: 'http', url: 'http://127.0.0.1:41001/mcp' } } });
    }
  });

  it("writes Claude Desktop's MSIX copy too when the Windows MSIX package is installed", async () => {
    await fx.cleanup();
    fx = await clientsFixture('win32');
    const packageDir = join(fx.home, 'AppData', 'Local', 'Packages', 'Claude_pzs8sxrjxfjjc');
    await mkdir(packageDir, { recursive: true });
    fx.workloads = [workload('fetch', 41001)];
    await fx.service.register(['claude-desktop']);
    const msix = join(packageDir, 'LocalCache', 'Roaming', 'Claude', 'claude_desktop_config.json');
    expect(JSON.parse(await readFile(msix, 'utf8')).mcpServers.fetch.args.slice(-3)).toEqual(['proxy', 'stdio', 'fetch']);
  });

  it('refuses an unknown client with the list of valid ones', async () => {
    await expect(fx.service.register(['notepad'])).rejects.toMatchObject({ code: 'bad_request', hint: expect.stringContaining('claude-code') });
  });
});
